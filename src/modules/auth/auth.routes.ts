import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../../config.js';
import { authed } from '../../lib/context.js';
import { uuidv7 } from '../../lib/ids.js';
import { problemResponses } from '../../plugins/errors.js';
import { loginBody, loginResponse, meResponse } from './auth.schema.js';
import { login, readMe } from './auth.service.js';

const tags = ['auth'];

export const authRoutes: FastifyPluginAsyncZod<{ config: Config }> = async (app, { config }) => {
  const throttle = { maxFailures: config.LOGIN_MAX_FAILURES, lockSeconds: config.LOGIN_LOCK_SECONDS };

  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in; returns a short-lived bearer token',
        security: [],
        body: loginBody,
        response: { 200: loginResponse, ...problemResponses },
      },
      config: { access: 'public', audit: 'auth.login' },
    },
    async (request) => {
      const member = await login(request.db, request.ctx, throttle, request.body);
      const jti = uuidv7();
      request.ctx.audit.details = { tokenId: jti };
      const accessToken = app.jwt.sign({ sub: member.id, cid: request.ctx.clinicId as string, roles: member.roles, jti });
      return { accessToken, tokenType: 'Bearer' as const, expiresIn: config.JWT_TTL_SECONDS, staff: member };
    },
  );

  app.get(
    '/me',
    {
      schema: { tags, summary: 'The signed-in staff member', response: { 200: meResponse, ...problemResponses } },
      config: { access: 'self', audit: 'auth.me' },
    },
    async (request) => readMe(authed(request)),
  );
};
