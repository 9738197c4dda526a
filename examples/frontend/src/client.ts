// A typed client of the Mijn KWH user management API for the browser: openapi-fetch over the
// types that openapi-typescript generates from openapi/openapi.json (src/api.d.ts). Every call
// returns what the page needs of an answer, including the headers that CORS lets it read.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./api";

export type User = components["schemas"]["UserResponse"];
export type UserPage = components["schemas"]["UserPage"];
export type UserUpdate = components["schemas"]["UpdateUserRequest"];
export type NewUser = components["schemas"]["CreateUserRequest"];
export type Problem = components["schemas"]["Problem"];
export type UserFilter = NonNullable<paths["/users"]["get"]["parameters"]["query"]>;

/** The headers of an answer that a page on another origin can read (the API exposes them). */
export interface Answer {
  status: number;
  requestId: string | null;
}

/** A problem+json answer (RFC 9457), with the headers that go with it. */
export class ApiProblem extends Error {
  readonly problem: Problem;
  readonly answer: Answer;
  /** Seconds to wait, from `Retry-After` (on 429). */
  readonly retryAfter: number | null;

  constructor(problem: Problem, response: Response) {
    super(`${problem.status} ${problem.code}: ${problem.title}`);
    this.problem = problem;
    this.answer = answerOf(response);
    const retryAfter = response.headers.get("Retry-After");
    this.retryAfter = retryAfter === null ? null : Number(retryAfter);
  }
}

function answerOf(response: Response): Answer {
  return { status: response.status, requestId: response.headers.get("X-Request-Id") };
}

/** An error answer that is not problem+json (a proxy's, say) still reads as a problem. */
function problemOf(error: unknown, response: Response): ApiProblem {
  if (typeof error === "object" && error !== null && "code" in error && "title" in error) {
    return new ApiProblem(error as Problem, response);
  }
  return new ApiProblem(
    {
      type: "about:blank",
      title: response.statusText || "Onbekende fout",
      status: response.status,
      detail: typeof error === "string" ? error : "",
      code: "unexpected_response",
    },
    response,
  );
}

export interface Session {
  signIn(email: string, password: string): Promise<Answer>;
  signOut(): void;
  readonly signedIn: boolean;
  listUsers(filter: UserFilter): Promise<{ page: UserPage; answer: Answer }>;
  getUser(id: string): Promise<{ user: User; etag: string; answer: Answer }>;
  updateUser(id: string, etag: string, change: UserUpdate): Promise<{ user: User; etag: string; answer: Answer }>;
  createUser(user: NewUser, idempotencyKey: string): Promise<{ user: User; location: string; replayed: boolean; answer: Answer }>;
  exportUsers(filter: UserFilter): Promise<{ csv: Blob; answer: Answer }>;
}

/**
 * A session with the API at `baseUrl`. Texts of problems come in `language` (`nl`: Dutch).
 * The access token lives in this object only, not in storage another script could read.
 */
export function mijnKwh(baseUrl: string, language = "nl"): Session {
  let token: string | null = null;
  const client = createClient<paths>({ baseUrl });
  const headers: Middleware = {
    onRequest({ request }) {
      request.headers.set("Accept-Language", language);
      if (token !== null) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(headers);

  return {
    get signedIn() {
      return token !== null;
    },

    async signIn(email, password) {
      const { data, error, response } = await client.POST("/auth/login", { body: { email, password } });
      if (data === undefined) throw problemOf(error, response);
      token = data.access_token;
      return answerOf(response);
    },

    signOut() {
      token = null;
    },

    async listUsers(filter) {
      const { data, error, response } = await client.GET("/users", { params: { query: filter } });
      if (data === undefined) throw problemOf(error, response);
      // The document offers the list as JSON or as CSV; without `Accept: text/csv` it is JSON.
      if (typeof data === "string") throw new Error("GET /users answered CSV to a request for JSON");
      return { page: data, answer: answerOf(response) };
    },

    async getUser(id) {
      const { data, error, response } = await client.GET("/users/{id}", { params: { path: { id } } });
      if (data === undefined) throw problemOf(error, response);
      return { user: data, etag: requiredHeader(response, "ETag"), answer: answerOf(response) };
    },

    async updateUser(id, etag, change) {
      const { data, error, response } = await client.PATCH("/users/{id}", {
        params: { path: { id }, header: { "If-Match": etag } },
        body: change,
      });
      if (data === undefined) throw problemOf(error, response);
      return { user: data, etag: requiredHeader(response, "ETag"), answer: answerOf(response) };
    },

    async createUser(user, idempotencyKey) {
      const { data, error, response } = await client.POST("/users", {
        params: { header: { "Idempotency-Key": idempotencyKey } },
        body: user,
      });
      if (data === undefined) throw problemOf(error, response);
      return {
        user: data,
        location: requiredHeader(response, "Location"),
        replayed: response.headers.get("Idempotent-Replayed") === "true",
        answer: answerOf(response),
      };
    },

    async exportUsers(filter) {
      const { data, error, response } = await client.GET("/users", {
        params: { query: filter },
        headers: { Accept: "text/csv" },
        parseAs: "blob",
      });
      if (data === undefined) throw problemOf(error, response);
      return { csv: data, answer: answerOf(response) };
    },
  };
}

/** A header the API always sends; missing means the browser hid it (CORS `expose_headers`). */
function requiredHeader(response: Response, name: string): string {
  const value = response.headers.get(name);
  if (value === null) throw new Error(`the answer has no readable ${name} header (is it exposed by CORS?)`);
  return value;
}
