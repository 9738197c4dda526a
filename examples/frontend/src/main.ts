// The example page: sign in, list users with a filter and the cursor, open one (its ETag), edit
// it with If-Match, create one with an Idempotency-Key, download the CSV export. Problems are
// shown as the API sends them, in Dutch. The API's address comes from `?api=`.

import { type Answer, ApiProblem, mijnKwh, type NewUser, type User, type UserFilter, type UserUpdate } from "./client";

const apiBase = new URLSearchParams(location.search).get("api") ?? "http://127.0.0.1:8080";
const api = mijnKwh(apiBase, "nl");

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is not on the page`);
  return found as T;
}

function field(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === "string" ? value : "";
}

function text(id: string, value: string | number | null | undefined): void {
  element(id).textContent = value === null || value === undefined ? "" : String(value);
}

function noted(answer: Answer): void {
  text("request-id", answer.requestId);
}

function clearProblem(): void {
  element("problem").hidden = true;
}

/** Shows what went wrong: a problem as the API sent it, or a call the browser did not let through. */
function showProblem(error: unknown): void {
  const errors = element("problem-errors");
  errors.replaceChildren();
  if (error instanceof ApiProblem) {
    const { problem, answer, retryAfter } = error;
    noted(answer);
    text("problem-title", problem.title);
    text("problem-detail", problem.detail);
    for (const fieldError of problem.errors ?? []) {
      const item = document.createElement("li");
      item.dataset.field = fieldError.field;
      item.textContent = `${fieldError.field}: ${fieldError.message} (${fieldError.code})`;
      errors.append(item);
    }
    text("problem-status", problem.status);
    text("problem-code", problem.code);
    text("problem-request-id", problem.request_id);
    text("problem-retry-after", retryAfter);
  } else {
    // fetch() rejects with a TypeError when the network fails or CORS refuses the answer; the
    // page cannot tell which (the browser's console can). Anything else is this page's own
    // finding about an answer, such as a header the browser did not let it read.
    const network = error instanceof TypeError;
    text("problem-title", network ? "Geen verbinding met de API" : "Onverwacht antwoord van de API");
    text(
      "problem-detail",
      network ? `Netwerkfout, of de browser weigerde het antwoord (CORS): ${error.message}` : String(error),
    );
    text("problem-status", "");
    text("problem-code", network ? "network_error" : "unexpected_answer");
    text("problem-request-id", "");
    text("problem-retry-after", "");
  }
  element("problem").hidden = false;
}

async function attempt(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    showProblem(error);
  }
}

// --- Signing in ---------------------------------------------------------------------------

const signinForm = element<HTMLFormElement>("signin-form");
signinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void attempt(async () => {
    api.signOut();
    const answer = await api.signIn(field(signinForm, "email"), field(signinForm, "password"));
    noted(answer);
    clearProblem();
    text("signin-status", `Aangemeld als ${field(signinForm, "email")}`);
    element("users").hidden = false;
    element("create").hidden = false;
    await search();
  });
});

// --- The list, its filter and its cursor --------------------------------------------------

const filterForm = element<HTMLFormElement>("filter-form");
let filter: UserFilter = {};
let nextCursor: string | undefined;
let pageNumber = 0;

function filterFromForm(): UserFilter {
  const chosen: UserFilter = {};
  const q = field(filterForm, "q").trim();
  if (q !== "") chosen.q = q;
  const role = field(filterForm, "role");
  if (role !== "") chosen.role = role as NonNullable<UserFilter["role"]>;
  const limit = Number(field(filterForm, "limit"));
  if (Number.isInteger(limit) && limit > 0) chosen.limit = limit;
  return chosen;
}

async function search(): Promise<void> {
  filter = filterFromForm();
  pageNumber = 0;
  await showPage(undefined);
}

async function showPage(cursor: string | undefined): Promise<void> {
  const section = element("users");
  section.setAttribute("aria-busy", "true");
  try {
    await renderPage(cursor);
  } finally {
    section.setAttribute("aria-busy", "false");
  }
}

async function renderPage(cursor: string | undefined): Promise<void> {
  const { page, answer } = await api.listUsers(cursor === undefined ? filter : { ...filter, cursor });
  noted(answer);
  clearProblem();
  pageNumber += 1;
  nextCursor = page.next_cursor ?? undefined;
  const rows = page.items.map((user) => {
    const row = document.createElement("tr");
    row.dataset.id = user.id;
    for (const value of [`${user.first_name} ${user.last_name}`, user.email, user.role]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    row.addEventListener("click", () => void attempt(() => openUser(user.id)));
    return row;
  });
  element("user-rows").replaceChildren(...rows);
  text("page-info", `pagina ${pageNumber}: ${page.items.length} gebruikers${nextCursor ? "" : " (laatste pagina)"}`);
  element("next-page").hidden = nextCursor === undefined;
}

filterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void attempt(search);
});
element("next-page").addEventListener("click", () => void attempt(() => showPage(nextCursor)));

element("export").addEventListener("click", () =>
  void attempt(async () => {
    const { csv, answer } = await api.exportUsers(filterFromFormWithoutPaging());
    noted(answer);
    clearProblem();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(csv);
    link.download = "gebruikers.csv";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }),
);

/** The export holds every matching user: no page size, no cursor. */
function filterFromFormWithoutPaging(): UserFilter {
  const { limit: _limit, cursor: _cursor, ...rest } = filterFromForm();
  return rest;
}

// --- One user: its ETag, and an edit with If-Match ----------------------------------------

const editForm = element<HTMLFormElement>("edit-form");
let opened: { id: string; etag: string } | undefined;

function showUser(user: User, etag: string): void {
  opened = { id: user.id, etag };
  text("detail-name", `${user.first_name} ${user.last_name} <${user.email}>`);
  text("detail-etag", etag);
  for (const name of ["first_name", "last_name", "job_title"] as const) {
    (editForm.elements.namedItem(name) as HTMLInputElement).value = user[name] ?? "";
  }
  element("detail").hidden = false;
}

async function openUser(id: string): Promise<void> {
  const { user, etag, answer } = await api.getUser(id);
  noted(answer);
  clearProblem();
  text("edit-status", "");
  showUser(user, etag);
}

editForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const target = opened;
  if (target === undefined) return;
  void attempt(async () => {
    text("edit-status", "");
    const jobTitle = field(editForm, "job_title");
    const change: UserUpdate = {
      first_name: field(editForm, "first_name"),
      last_name: field(editForm, "last_name"),
      job_title: jobTitle === "" ? null : jobTitle,
    };
    const { user, etag, answer } = await api.updateUser(target.id, target.etag, change);
    noted(answer);
    clearProblem();
    showUser(user, etag);
    text("edit-status", "Opgeslagen");
  });
});

// --- A new user, retry-safe ---------------------------------------------------------------

const createForm = element<HTMLFormElement>("create-form");
let lastCreate: { user: NewUser; key: string } | undefined;

async function sendCreate(request: { user: NewUser; key: string }): Promise<void> {
  const { location, replayed, answer } = await api.createUser(request.user, request.key);
  noted(answer);
  clearProblem();
  text("create-location", location);
  text("create-replayed", String(replayed));
}

createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  lastCreate = {
    user: {
      email: field(createForm, "email"),
      first_name: field(createForm, "first_name"),
      last_name: field(createForm, "last_name"),
    },
    // One key per intended creation: a retry of it (a lost answer, a double click) is safe.
    key: crypto.randomUUID(),
  };
  element<HTMLButtonElement>("create-retry").disabled = false;
  const request = lastCreate;
  void attempt(() => sendCreate(request));
});
element("create-retry").addEventListener("click", () => {
  const request = lastCreate;
  if (request !== undefined) void attempt(() => sendCreate(request));
});

text("api-base", apiBase);
