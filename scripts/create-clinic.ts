// Creates a clinic and its first administrator:
//   npm run clinic:create -- --slug riverside --name "Riverside DBT" --admin-email admin@riverside.example --admin-name "Alex Admin"
// The admin password comes from ADMIN_PASSWORD, or is generated and printed once.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { openDatabase, ownerDatabaseOptions } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { AppError } from '../src/lib/errors.js';
import { createClinicWithAdmin } from '../src/modules/clinics/clinics.service.js';

const { values } = parseArgs({
  options: {
    slug: { type: 'string' },
    name: { type: 'string' },
    'time-zone': { type: 'string' },
    'admin-email': { type: 'string' },
    'admin-name': { type: 'string' },
  },
});
const missing = ['slug', 'name', 'admin-email', 'admin-name'].filter((key) => !values[key as keyof typeof values]);
if (missing.length > 0) {
  process.stderr.write(`Missing: ${missing.map((key) => `--${key}`).join(', ')}\n`);
  process.exit(2);
}

const config = loadConfig();
const database = await openDatabase(ownerDatabaseOptions(config));
try {
  await migrate(database);
  const { clinic, admin, password } = await createClinicWithAdmin(database.db, {
    slug: values.slug as string,
    name: values.name as string,
    timeZone: values['time-zone'],
    adminEmail: values['admin-email'] as string,
    adminName: values['admin-name'] as string,
    adminPassword: process.env.ADMIN_PASSWORD || undefined,
  });
  process.stdout.write(`Clinic "${clinic.name}" (${clinic.slug}) created with admin ${admin.email}\n`);
  if (!process.env.ADMIN_PASSWORD) process.stdout.write(`Admin password (shown once): ${password}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof AppError ? error.detail : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
