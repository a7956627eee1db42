// Creates the monthly audit_events partitions still missing, from this month to --months ahead
// (default 3), and reports records in the default partition. Idempotent: run it monthly (cron).
//   npm run audit:partitions [-- --months 6]
// Exit 0: partitions ahead, default partition empty; 1: the default partition holds records.
// On the embedded database, stop the server first: PGlite allows one process per directory.
import { parseArgs } from 'node:util';
import { AUDIT_PARTITION_MONTHS_AHEAD, ensureAuditPartitions, partitionWarning } from '../src/audit/partitions.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, ownerDatabaseOptions } from '../src/db/client.js';

const { values } = parseArgs({ options: { months: { type: 'string', default: String(AUDIT_PARTITION_MONTHS_AHEAD) } } });
const months = Number(values.months);
if (!Number.isInteger(months) || months < 0 || months > 120) {
  process.stderr.write('--months must be a whole number from 0 to 120\n');
  process.exit(2);
}

const config = loadConfig();
const database = await openDatabase(ownerDatabaseOptions(config));
try {
  const report = await ensureAuditPartitions(database.db, months);
  for (const p of report.partitions) process.stdout.write(`${p.name}: ${p.status}\n`);
  const warning = partitionWarning(report);
  if (warning) process.stderr.write(`${warning}\n`);
  process.exitCode = warning ? 1 : 0;
} finally {
  await database.close();
}
