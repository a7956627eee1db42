import { expect } from 'vitest';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: Array<{ in: string; field: string; message: string }>;
}

interface InjectedResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  json: () => unknown;
}

/** Asserts an RFC 9457 problem with the given status whose instance is the request id; returns it. */
export function expectProblem(response: InjectedResponse, status: number): ProblemBody {
  expect(response.statusCode).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = response.json() as ProblemBody;
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^\/problems\//),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(body.instance).toBe(response.headers['x-request-id']);
  return body;
}
