import { App, Chart } from 'cdk8s';
import { SecureMetricsServer } from './lib';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer');
app.synth();
