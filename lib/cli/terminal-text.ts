/** The terminal escaping lives in lib/k8s/terminal-text.ts (the lowest layer: every layer prints); kept here for the command's imports. */
export * from '../k8s/terminal-text';
