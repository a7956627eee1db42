import { fuzzOperations } from './runner.js';

fuzzOperations('contract fuzzing: writes', (operation) => operation.method !== 'GET');
