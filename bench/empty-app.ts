/**
 * The floor of the whole-process benchmark: a cdk8s app with one empty chart,
 * run by the same CLI and the same transpile-only runner as the example app.
 */
import { App, Chart } from 'cdk8s';

const app = new App();
new Chart(app, 'empty');
app.synth();
