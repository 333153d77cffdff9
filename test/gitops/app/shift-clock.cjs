// Test only: moves this process's clock SMS_TEST_CLOCK_SHIFT_DAYS days ahead (a preload,
// `node -r shift-clock.cjs`), so that the gitops scenario can reach renewBefore without waiting.
const days = Number(process.env.SMS_TEST_CLOCK_SHIFT_DAYS || 0);
if (days) {
  const RealDate = Date;
  const shift = days * 86400000;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) {
        super(RealDate.now() + shift);
      } else {
        super(...args);
      }
    }
    static now() {
      return RealDate.now() + shift;
    }
  }
  global.Date = ShiftedDate;
}
