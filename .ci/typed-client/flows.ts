// The resident, staff and property-company flows, written as a mini-program or admin front-end
// would write them: against a client generated from openapi/openapi.json (openapi-typescript +
// openapi-fetch), type-checked with `strict`, no casts, and run against a live server by
// .ci/fuzz. If the spec and the server disagree, or the spec makes a flow need a cast, this fails.
//
// Environment: LINLI_FLOW_BASE (the server), LINLI_FLOW_ADMIN_USER, LINLI_FLOW_ADMIN_PASSWORD.
// WeChat sign-in uses codes `flow-…`, which .ci/fake_wechat.py accepts.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

declare const process: { env: Record<string, string | undefined> };

type Problem = components["schemas"]["Problem"];
type ProblemCode = components["schemas"]["ProblemCode"];

const base = env("LINLI_FLOW_BASE");
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function fail(what: string, detail: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

function check(cond: boolean, what: string, detail?: unknown): void {
  if (!cond) fail(what, detail);
}

const CHINESE = /[\u4e00-\u9fff]/;

/** `wx.request` has no PATCH: the one adapter the README names, as a fetch middleware. */
const wxRequest: Middleware = {
  async onRequest({ request }) {
    if (request.method !== "PATCH") return undefined;
    const headers = new Headers(request.headers);
    headers.set("X-HTTP-Method-Override", "PATCH");
    return new Request(request, { method: "POST", headers });
  },
};

function client(token?: string) {
  const c = createClient<paths>({ baseUrl: base });
  c.use(wxRequest);
  if (token) {
    c.use({
      async onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }
  return c;
}

/** The data of a successful call, or the problem it answered with as the error. */
function ok<T>(what: string, r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined) fail(`${what} answered ${r.response.status}`, r.error);
  return r.data;
}

/** A refusal a screen switches on: its code and the Chinese words to show. */
function refusal(
  what: string,
  r: { error?: Problem | unknown; response: Response },
  want: ProblemCode,
): Problem {
  const p = r.error;
  if (!isProblem(p)) fail(`${what} was not refused with a problem`, p);
  check(p.code === want, `${what}: code ${p.code}, wanted ${want}`, p);
  check(CHINESE.test(p.detail), `${what}: detail not in Chinese`, p);
  check(r.response.headers.get("content-language") === "zh-CN", `${what}: Content-Language`);
  return p;
}

function isProblem(p: unknown): p is Problem {
  return typeof p === "object" && p !== null && "code" in p && "detail" in p;
}

async function staffFlow() {
  const anon = client();
  const login = ok(
    "admin login",
    await anon.POST("/api/v1/auth/login", {
      body: { username: env("LINLI_FLOW_ADMIN_USER"), password: env("LINLI_FLOW_ADMIN_PASSWORD") },
    }),
  );
  const admin = client(login.access_token);

  const street = ok("street", await admin.POST("/api/v1/streets", { body: { name: `流程街道${run}` } }));
  const community = ok(
    "community",
    await admin.POST("/api/v1/communities", { body: { street_id: street.id, name: "幸福社区" } }),
  );
  const company = ok(
    "property company",
    await admin.POST("/api/v1/property-companies", {
      body: { street_id: street.id, name: "安居物业", contact_phone: "0571-88886666" },
    }),
  );
  const compound = ok(
    "compound",
    await admin.POST("/api/v1/compounds", {
      body: { community_id: community.id, name: "阳光小区", property_company_id: company.id },
    }),
  );
  const building = ok(
    "building",
    await admin.POST("/api/v1/buildings", { body: { compound_id: compound.id, name: "3幢" } }),
  );
  const household = ok(
    "household",
    await admin.POST("/api/v1/households", {
      body: { building_id: building.id, unit: "1单元", room: "502" },
    }),
  );
  // A rename through the PATCH adapter, as the mini-program's admin pages would send it.
  const renamed = ok(
    "rename compound",
    await admin.PATCH("/api/v1/compounds/{id}", {
      params: { path: { id: compound.id } },
      body: { name: "阳光花园" },
    }),
  );
  check(renamed.name === "阳光花园", "the PATCH went through as POST + override", renamed);

  const account = async (username: string, display: string) =>
    ok(
      `user ${username}`,
      await admin.POST("/api/v1/users", {
        body: { username, password: "flow-password-123", display_name: display },
      }),
    );
  const worker = await account(`flow-worker-${run}`, "社区小李");
  ok(
    "grant community_staff",
    await admin.POST("/api/v1/role-assignments", {
      body: { user_id: worker.id, role: "community_staff", scope_type: "community", scope_id: community.id },
    }),
  );
  const fixer = await account(`flow-fixer-${run}`, "物业老王");
  ok(
    "grant property_staff",
    await admin.POST("/api/v1/role-assignments", {
      body: { user_id: fixer.id, role: "property_staff", scope_type: "property_company", scope_id: company.id },
    }),
  );
  const signIn = async (username: string) =>
    client(
      ok(
        `login ${username}`,
        await anon.POST("/api/v1/auth/login", { body: { username, password: "flow-password-123" } }),
      ).access_token,
    );
  return {
    worker: await signIn(worker.username ?? fail("a password account has a username", worker)),
    fixer: await signIn(fixer.username ?? fail("a password account has a username", fixer)),
    community,
    compound,
    household,
    company,
  };
}

async function residentFlow(world: Awaited<ReturnType<typeof staffFlow>>) {
  const anon = client();
  const session = ok(
    "wechat login",
    await anon.POST("/api/v1/auth/wechat/login", { body: { code: `flow-${run}` } }),
  );
  check(session.is_new_user, "a first WeChat sign-in is a new user", session);
  const me = client(session.access_token);

  // Not yet bound: no household. The screen switches on the code and shows the words.
  refusal("household before binding", await me.GET("/api/v1/me/household"), "not_found");

  const request = ok(
    "binding request",
    await me.POST("/api/v1/me/binding-requests", {
      body: { household_id: world.household.id, name: "张阿姨", relation: "户主" },
    }),
  );
  check(request.status === "pending", "a new request is pending", request);
  refusal(
    "a second request",
    await me.POST("/api/v1/me/binding-requests", {
      body: { household_id: world.household.id, name: "张阿姨", relation: "户主" },
    }),
    "binding_request_pending",
  );

  // The community worker finds it in their queue and approves it.
  const queue = ok(
    "binding queue",
    await world.worker.GET("/api/v1/binding-requests", { params: { query: { status: "pending" } } }),
  );
  const mine = queue.items.find((r) => r.id === request.id) ?? fail("the request is queued", queue);
  ok(
    "approve",
    await world.worker.POST("/api/v1/binding-requests/{id}/approve", { params: { path: { id: mine.id } } }),
  );
  const myRequests = ok("my requests", await me.GET("/api/v1/me/binding-requests"));
  check(myRequests.items[0]?.status === "approved", "the resident sees it approved", myRequests);

  // A fresh token carries the new role.
  const again = client(
    ok("wechat login again", await anon.POST("/api/v1/auth/wechat/login", { body: { code: `flow-${run}` } }))
      .access_token,
  );
  const home = ok("my household", await again.GET("/api/v1/me/household"));
  check(home.compound_name === "阳光花园" && home.room === "502", "names, not ids", home);

  const categories = ok(
    "categories",
    await again.GET("/api/v1/ticket-categories", { params: { query: { community_id: world.community.id } } }),
  );
  const category = categories.items[0] ?? fail("a community starts with categories", categories);
  const filed = ok(
    "file a ticket",
    await again.POST("/api/v1/tickets", {
      params: { header: { "Idempotency-Key": `flow-ticket-${run}` } },
      body: {
        category_id: category.id,
        title: "楼道灯不亮",
        description: "3幢1单元2楼到5楼的楼道灯坏了一周",
        compound_id: world.compound.id,
      },
    }),
  );
  check(filed.status === "submitted", "a filed ticket is submitted", filed);
  return { resident: again, ticketId: filed.id };
}

async function handlingFlow(
  world: Awaited<ReturnType<typeof staffFlow>>,
  resident: ReturnType<typeof client>,
  id: string,
) {
  const path = { params: { path: { id } } };
  ok("triage", await world.worker.POST("/api/v1/tickets/{id}/triage", { ...path, body: { priority: "orange" } }));
  ok(
    "assign",
    await world.worker.POST("/api/v1/tickets/{id}/assign", {
      ...path,
      body: { property_company_id: world.company.id, note: "请物业尽快处理" },
    }),
  );
  // The property company's staff see it in their list and work it.
  const theirs = ok("property list", await world.fixer.GET("/api/v1/tickets", { params: { query: { status: ["assigned"] } } }));
  check(theirs.items.some((t) => t.id === id), "the company sees its ticket", theirs);
  ok("accept", await world.fixer.POST("/api/v1/tickets/{id}/accept", path));
  // A word between the handler and the requester, on the ticket.
  ok(
    "staff message",
    await world.fixer.POST("/api/v1/tickets/{id}/messages", { ...path, body: { body: "师傅下午两点上门" } }),
  );
  ok("resident reply", await resident.POST("/api/v1/tickets/{id}/messages", { ...path, body: { body: "好的，家里有人" } }));
  const talk = ok("conversation", await resident.GET("/api/v1/tickets/{id}/messages", path));
  const fromStaff = talk.items.find((m) => m.side === "staff") ?? fail("the staff message is there", talk);
  check(fromStaff.author_name === "物业老王" && !fromStaff.mine, "names on the conversation", fromStaff);

  // The in-app message centre has what the subscribe messages said (and the reply of staff).
  const badge = ok("unread count", await resident.GET("/api/v1/me/messages/unread-count"));
  check(badge.unread > 0, "the resident has unread messages", badge);
  const inbox = ok("inbox", await resident.GET("/api/v1/me/messages", { params: { query: { unread: true } } }));
  const first = inbox.items[0] ?? fail("an unread message", inbox);
  check(CHINESE.test(first.title) && first.subject_id === id, "a message names its ticket, in Chinese", first);
  const marked = ok("read all", await resident.POST("/api/v1/me/messages/read-all"));
  check(marked.marked === badge.unread, "read-all marks what was unread", { marked, badge });
  ok("resolve", await world.fixer.POST("/api/v1/tickets/{id}/resolve", { ...path, body: { note: "已更换灯泡" } }));

  const detail = ok("ticket detail", await resident.GET("/api/v1/tickets/{id}", path));
  check(detail.status === "resolved", "the resident sees it resolved", detail);
  check(
    detail.status_label === "已办结" &&
      detail.assigned_company_name === "安居物业" &&
      detail.compound_name === "阳光花园" &&
      detail.room === "502",
    "the resident's screen reads names and labels, not ids",
    detail,
  );
  const kinds = detail.timeline.map((e) => e.kind);
  check(kinds.includes("resolve"), "the timeline shows the resolution", kinds);
  const triage = detail.timeline.find((e) => e.kind === "triage");
  check(triage?.priority === "orange", "the triage decision is a field", triage);

  ok("confirm", await resident.POST("/api/v1/tickets/{id}/confirm", { ...path, body: { rating: 5, comment: "很快" } }));
  refusal("urging a closed ticket", await resident.POST("/api/v1/tickets/{id}/urge", path), "wrong_status");
}

const world = await staffFlow();
const { resident, ticketId } = await residentFlow(world);
await handlingFlow(world, resident, ticketId);
console.log("typed-client flows: staff, resident and property company passed");
