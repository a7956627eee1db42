import { fuzzOperations } from './runner.js';

fuzzOperations('contract fuzzing: reads', (operation) => operation.method === 'GET');
