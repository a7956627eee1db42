// Writes openapi.yaml from the routes' zod schemas. Needs no database: the app is built on an
// unopened embedded instance and never started.
import { writeFileSync } from 'node:fs';
import { buildOpenApiYaml } from '../test/helpers/openapi.js';

writeFileSync(new URL('../openapi.yaml', import.meta.url), await buildOpenApiYaml());
process.stdout.write('openapi.yaml written\n');
