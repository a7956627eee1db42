import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loggerOptions } from '../../src/lib/logger.js';
import { query, testConfig, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createProgram, TEST_PASSWORD } from '../helpers/factories.js';

/** Everything the app logs, at its most talkative level, with the production logger options. */
const captured: string[] = [];
const stream = new Writable({
  write(chunk, _encoding, done) {
    captured.push(String(chunk));
    done();
  },
});
const config = testConfig({ LOG_LEVEL: 'trace' });
const app = await buildApp(config, { database: await testDatabase(), logger: { ...(loggerOptions(config) as object), stream } });
await app.ready();
afterAll(() => app.close());

/** Synthetic, and distinctive enough that any appearance in the log is this test's data. */
const client = { givenName: 'Quillonette', familyName: 'Vardenhoek', email: 'quillonette.v@example.test', phone: '+1 555 0199 4471' };
const refusedName = 'Ottowilda';
const wrongPassword = 'not the staple horse 8841';

describe('log output', () => {
  it('carries no password, token or client name through sign-in, reads, searches, validation errors and a 500', async () => {
    const { clinic, admin } = await createClinic();
    const { program } = await createProgram(clinic.id);
    const signIn = (password: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/login', payload: { clinic: clinic.slug, email: admin.email, password } });

    const refused = await signIn(wrongPassword);
    expect(refused.statusCode).toBe(401);
    const signedIn = await signIn(TEST_PASSWORD);
    expect(signedIn.statusCode).toBe(200);
    const token = signedIn.json().accessToken as string;
    const as = bearer(token);

    const body = { ...client, dateOfBirth: '1991-02-03', programId: program.id };
    const created = await app.inject({ method: 'POST', url: '/v1/clients', headers: as, payload: body });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect((await app.inject({ method: 'GET', url: `/v1/clients/${id}`, headers: as })).statusCode).toBe(200);
    const search = await app.inject({ method: 'GET', url: `/v1/clients?q=${client.givenName}`, headers: as });
    expect(search.json().items.map((item: { id: string }) => item.id)).toEqual([id]);

    const invalid = await app.inject({ method: 'POST', url: '/v1/clients', headers: as, payload: { ...body, dateOfBirth: 'soon' } });
    expect(invalid.statusCode).toBe(400);
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...as, 'content-type': 'application/json' },
      payload: `{"givenName": "${client.givenName}", "familyName": `,
    });
    expect(malformed.statusCode).toBe(400);
    const unknownField = { ...body, nickname: client.givenName };
    expect((await app.inject({ method: 'POST', url: '/v1/clients', headers: as, payload: unknownField })).statusCode).toBe(400);

    // A failure nobody planned for, whose database error names the refused row's values.
    await query(sql.raw(`alter table clients add constraint log_probe check (given_name <> '${refusedName}')`));
    const failed = await app.inject({ method: 'POST', url: '/v1/clients', headers: as, payload: { ...body, givenName: refusedName } });
    expect(failed.statusCode).toBe(500);
    await query(sql.raw('alter table clients drop constraint log_probe'));

    const tampered = `${token.slice(0, -4)}AAAA`;
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tampered) })).statusCode).toBe(401);

    const log = captured.join('');
    // The capture works: request lines with their paths and ids.
    expect(captured.length).toBeGreaterThan(20);
    expect(log).toContain(`/v1/clients/${id}`);

    const secrets = {
      password: TEST_PASSWORD,
      wrongPassword,
      token,
      tokenSignature: token.split('.')[2],
      ...client,
      refusedName,
    };
    const leaks = Object.entries(secrets).filter(([, value]) => log.toLowerCase().includes(String(value).toLowerCase()));
    expect(leaks.map(([what]) => what)).toEqual([]);

    // What went wrong stays diagnosable: the SQLSTATE and the names of the constraint and table.
    const failure = captured.map((line) => JSON.parse(line)).find((line) => line.msg === 'request failed');
    expect(failure?.err).toMatchObject({ type: 'DrizzleQueryError', cause: { code: '23514', constraint: 'log_probe', table: 'clients' } });
  });
});
