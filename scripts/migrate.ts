// Applies pending migrations to MIGRATION_DATABASE_URL (else DATABASE_URL), or to the embedded database in DATA_DIR.
// Stop the server first when it runs on the embedded database: PGlite allows one process per directory.
import { loadConfig } from '../src/config.js';
import { openDatabase, ownerDatabaseOptions } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';

const config = loadConfig();
const database = await openDatabase(ownerDatabaseOptions(config));
await migrate(database);
await database.close();
process.stdout.write(`Migrations applied to ${database.description}\n`);
