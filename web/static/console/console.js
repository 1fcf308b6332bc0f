// Technician console: live endpoint wall, conferences with rosters and actions, alarms, timeline.
// Every name that comes from the database or the bridge is rendered with textContent, never as HTML.

const root = document.getElementById("console");
const T = JSON.parse(root.dataset.strings);
const LIVE_URL = root.dataset.liveUrl;
const TOKEN_URL = root.dataset.tokenUrl;
const ZONE = root.dataset.zone || "Asia/Ho_Chi_Minh";
const LOCALE = root.dataset.locale === "en" ? "en-GB" : "vi-VN";
const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

const state = { endpoints: new Map(), conferences: new Map(), alarms: new Map(), seq: null };
let socket = null;
let backoff = 1;
let resyncAsked = false;

const fmt = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
const timeOf = (iso) => iso ? new Date(iso).toLocaleTimeString(LOCALE, { timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// ---- connection -------------------------------------------------------------------------------------
function setConn(kind, text) {
  const conn = document.getElementById("conn");
  conn.className = `conn conn-${kind}`;
  conn.dataset.state = kind;
  conn.textContent = text;
}

async function fetchToken() {
  const response = await fetch(TOKEN_URL, {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRFToken": CSRF, "Accept": "application/json" },
  });
  if (!response.ok) throw new Error(`token ${response.status}`);
  return (await response.json()).token;
}

async function connect() {
  setConn("connecting", T.conn_connecting);
  let token;
  try {
    token = await fetchToken();
  } catch (err) {
    return retry();
  }
  const ws = new WebSocket(LIVE_URL);
  socket = ws;
  let opened = false;
  ws.addEventListener("open", () => { opened = true; ws.send(JSON.stringify({ type: "auth", token })); });
  ws.addEventListener("message", (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (err) { return; }
    handle(msg);
  });
  // A socket that never opened was refused (wrong origin, wrong address) or found nothing listening:
  // say so, with the address, instead of "connection lost".
  ws.addEventListener("close", () => { if (socket === ws) { socket = null; retry(!opened); } });
}

function retry(refused = false) {
  const wait = Math.min(backoff, 15);
  backoff = Math.min(backoff * 2, 15);
  if (refused) setConn("refused", fmt(T.conn_refused, { s: wait, u: LIVE_URL }));
  else setConn("lost", fmt(T.conn_lost, { s: wait }));
  setTimeout(connect, wait * 1000 * (0.8 + Math.random() * 0.4));
}

function askResync() {
  if (resyncAsked || !socket || socket.readyState !== WebSocket.OPEN) return;
  resyncAsked = true;
  setConn("resync", T.conn_resync);
  socket.send(JSON.stringify({ type: "resync" }));
}

// ---- messages ---------------------------------------------------------------------------------------
function handle(msg) {
  if (msg.type === "snapshot") return applySnapshot(msg);
  if (msg.type === "batch") { msg.events.forEach(applyEvent); return; }
  if (["endpoint.status", "participant.state", "conference.state", "alarm"].includes(msg.type)) applyEvent(msg);
}

function applySnapshot(snap) {
  state.seq = snap.seq;
  resyncAsked = false;
  backoff = 1;
  state.endpoints = new Map(snap.endpoints.map((e) => [e.id, e]));
  state.conferences = new Map(snap.conferences.map((c) => [c.id, c]));
  state.alarms = new Map(snap.alarms.map((a) => [a.id, a]));
  setConn("live", T.conn_live);
  renderWall();
  renderConferences();
  renderAlarms();
}

function applyEvent(ev) {
  if (state.seq === null) return; // no snapshot yet: it will include this
  if (ev.seq !== state.seq + 1) askResync(); // a hole: what we missed comes with the snapshot
  state.seq = Math.max(state.seq, ev.seq);
  if (ev.type === "endpoint.status") {
    const endpoint = state.endpoints.get(ev.endpoint_id);
    if (!endpoint) return askResync();
    Object.assign(endpoint, { status: ev.status, since: ev.since, packet_loss: ev.packet_loss });
    updateTile(endpoint);
  } else if (ev.type === "participant.state") {
    const conf = state.conferences.get(ev.conference_id);
    // Directory endpoints, external participants and dial-ins all have a participant name.
    const leg = conf && conf.participants.find((p) => (ev.participant_name
      ? p.participant_name === ev.participant_name : p.endpoint_id === ev.endpoint_id));
    if (!leg) return askResync();
    const before = leg.state;
    Object.assign(leg, { state: ev.state, reason: ev.reason, attempts: ev.attempts,
                         audio_muted: ev.audio_muted, video_muted: ev.video_muted });
    if (ev.state === "connected" && before !== "connected") leg.connected_at = new Date().toISOString();
    if (before !== ev.state) addTimeline(conf, `${leg.name}: ${T["leg_" + ev.state] || ev.state}${ev.reason ? " (" + (T["reason_" + ev.reason] || ev.reason) + ")" : ""}`);
    renderConferences();
  } else if (ev.type === "conference.state") {
    const conf = state.conferences.get(ev.conference_id);
    if (!conf) return askResync();
    if (conf.state !== ev.state) addTimeline(conf, T["state_" + ev.state] || ev.state);
    conf.state = ev.state;
    renderConferences();
  } else if (ev.type === "alarm") {
    const alarm = ev.alarm;
    if (ev.action === "cleared" || alarm.cleared_at) state.alarms.delete(alarm.id);
    else state.alarms.set(alarm.id, alarm);
    renderAlarms();
  }
}

function addTimeline(conf, text) {
  conf.timeline = conf.timeline || [];
  conf.timeline.push({ at: new Date().toISOString(), message: text });
}

// ---- wall -------------------------------------------------------------------------------------------
function statusText(endpoint) {
  return T["status_" + endpoint.status] || endpoint.status;
}

function tile(endpoint) {
  const node = el("div", `tile status-${endpoint.status}`);
  node.dataset.endpointId = endpoint.id;
  node.dataset.status = endpoint.status;
  node.append(el("div", "tile-name", endpoint.name), el("div", "tile-status", statusText(endpoint)));
  node.title = endpoint.since ? `${statusText(endpoint)} — ${timeOf(endpoint.since)}` : statusText(endpoint);
  return node;
}

function renderWall() {
  const wall = document.getElementById("wall");
  const sites = new Map();
  for (const e of state.endpoints.values()) {
    if (!sites.has(e.site)) sites.set(e.site, []);
    sites.get(e.site).push(e);
  }
  const sections = [];
  for (const [site, endpoints] of sites) {
    const section = el("section", "wall-site");
    section.append(el("h3", null, site));
    const tiles = el("div", "tiles");
    endpoints.forEach((e) => tiles.append(tile(e)));
    section.append(tiles);
    sections.push(section);
  }
  wall.replaceChildren(...sections);
}

function updateTile(endpoint) {
  const old = document.querySelector(`.tile[data-endpoint-id="${Number(endpoint.id)}"]`);
  if (old) old.replaceWith(tile(endpoint));
  else renderWall();
}

// ---- conferences ------------------------------------------------------------------------------------
function duration(seconds) {
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m ? `${m} ph ${s} s`.replace("ph", LOCALE === "vi-VN" ? "ph" : "min") : `${s} s`;
}

function rosterItem(conf, leg) {
  const li = el("li");
  li.dataset.endpointId = leg.endpoint_id;
  li.append(el("span", "who", leg.name));
  if (leg.endpoint_id != null && conf.host_endpoint_id === leg.endpoint_id) li.append(el("span", "host-tag", T.host));
  if (leg.kind && leg.kind !== "endpoint") li.append(el("span", `muted leg-kind leg-kind-${leg.kind}`, T["kind_" + leg.kind] || leg.kind));
  const legState = el("span", `leg leg-${leg.state}`, (T["leg_" + leg.state] || leg.state) + (leg.audio_muted ? " · 🔇" : ""));
  li.append(legState);
  if (leg.attempts > 1) li.append(el("span", "muted", `${leg.attempts} ${T.attempts}`));
  // Operator actions address directory endpoints (POST …/participants/{endpoint_id}/…).
  const actions = leg.endpoint_id === null || leg.endpoint_id === undefined ? []
    : leg.state === "connected" ? [leg.audio_muted ? "unmute" : "mute", "disconnect"] : ["redial"];
  for (const action of actions) {
    const button = el("button", "btn btn-quiet", T[action]);
    button.type = "button";
    button.dataset.action = action;
    button.addEventListener("click", () => act(conf, leg, action, button));
    li.append(button);
  }
  return li;
}

function confCard(conf) {
  const wanted = conf.participants.filter((p) => p.state !== "removed");
  const connected = wanted.filter((p) => p.state === "connected").length;
  const card = el("article", "conf");
  card.dataset.conferenceId = conf.id;
  const head = el("div", "conf-head");
  head.append(el("h3", "conf-title", conf.title));
  const count = el("span", "conf-count" + (connected === wanted.length && wanted.length ? " complete" : ""),
                   fmt(T.connected_of, { c: connected, n: wanted.length }));
  head.append(count);
  card.append(head);
  const meta = [T["state_" + conf.state] || conf.state, `${timeOf(conf.planned_start)} – ${timeOf(conf.planned_end)}`];
  if (conf.all_connected_after_s !== null && conf.all_connected_after_s !== undefined && connected === wanted.length) {
    meta.push(fmt(T.all_connected_after, { t: duration(conf.all_connected_after_s) }));
  } else if (connected === wanted.length && wanted.length && conf.started_at) {
    const last = Math.max(...wanted.map((p) => Date.parse(p.connected_at || conf.started_at)));
    meta.push(fmt(T.all_connected_after, { t: duration(Math.max(0, (last - Date.parse(conf.started_at)) / 1000)) }));
  }
  card.append(el("p", "conf-state", meta.join(" · ")));
  if (conf.state === "starting" || conf.state === "live") card.append(controls(conf));
  const roster = el("ul", "roster");
  conf.participants.forEach((leg) => roster.append(rosterItem(conf, leg)));
  card.append(roster);
  const details = el("details");
  details.append(el("summary", null, T.timeline));
  const list = el("ol", "timeline");
  (conf.timeline || []).slice(-30).forEach((entry) => list.append(el("li", null, `${timeOf(entry.at)} ${entry.message}`)));
  details.append(list);
  card.append(details);
  return card;
}

function renderConferences() {
  const box = document.getElementById("conferences");
  const open = new Set([...box.querySelectorAll("article.conf details[open]")].map((d) => d.closest("article").dataset.conferenceId));
  const cards = [...state.conferences.values()].map(confCard);
  cards.forEach((card) => { if (open.has(card.dataset.conferenceId)) card.querySelector("details").open = true; });
  if (!cards.length) box.replaceChildren(el("p", "muted", T.no_conferences));
  else box.replaceChildren(...cards);
}

// Conference-wide controls: mute all but the host, unmute all, extend by 15/30/60 minutes, end (the last
// two after a confirmation in the page's one <dialog>, which survives the re-rendering of the cards).
function controls(conf) {
  const box = el("div", "conf-controls");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", `${T.controls}: ${conf.title}`);
  const base = `/api/v1/conferences/${Number(conf.id)}`;
  const button = (label, action, run) => {
    const b = el("button", "btn btn-quiet", label);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", () => run(b));
    box.append(b);
  };
  button(T.mute_all, "mute-all", (b) => control(conf, b, `${base}/mute-all`, { except_host: true }, T.mute_all));
  button(T.unmute_all, "unmute-all", (b) => control(conf, b, `${base}/unmute-all`, null, T.unmute_all));
  for (const minutes of [15, 30, 60]) {
    button(fmt(T.extend_by, { m: minutes }), `extend-${minutes}`, async (b) => {
      const end = timeOf(new Date(Date.parse(conf.planned_end) + minutes * 60000).toISOString());
      if (!(await confirmAction(fmt(T.confirm_extend, { t: conf.title, m: minutes, e: end })))) return;
      const run = await control(conf, b, `${base}/extend`, { minutes }, fmt(T.extend_by, { m: minutes }));
      if (run) document.getElementById("action-result").textContent = fmt(T.extended_to, { t: conf.title, e: timeOf(run.planned_end) });
    });
  }
  button(T.end_now, "end", async (b) => {
    if (!(await confirmAction(fmt(T.confirm_end, { t: conf.title })))) return;
    await control(conf, b, `${base}/end`, null, T.end_now);
  });
  return box;
}

function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-no").focus();
  });
}

async function control(conf, button, url, body, label) {
  const result = document.getElementById("action-result");
  button.disabled = true;
  try {
    const run = await post(url, body);
    const known = state.conferences.get(conf.id);
    if (known && run && run.planned_end) {
      known.planned_end = run.planned_end;
      for (const p of run.participants || []) {
        const leg = known.participants.find((l) => l.endpoint_id === p.endpoint_id);
        if (leg) leg.audio_muted = p.audio_muted;
      }
    }
    result.textContent = fmt(T.action_ok, { a: `${label} — ${conf.title}` });
    renderConferences();
    return run;
  } catch (err) {
    result.textContent = fmt(T.action_failed, { m: err.message });
    return null;
  } finally {
    button.disabled = false;
  }
}

async function post(url, payload = null) {
  const headers = { "X-CSRFToken": CSRF, "Accept": "application/json" };
  if (payload !== null) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method: "POST", credentials: "same-origin", headers,
                                      body: payload === null ? undefined : JSON.stringify(payload) });
  let body = {};
  try { body = await response.json(); } catch (err) { /* empty body */ }
  if (!response.ok) throw new Error(body.message || String(response.status));
  return body;
}

async function act(conf, leg, action, button) {
  const result = document.getElementById("action-result");
  button.disabled = true;
  try {
    await post(`/api/v1/conferences/${Number(conf.id)}/participants/${Number(leg.endpoint_id)}/${action}`);
    result.textContent = fmt(T.action_ok, { a: `${T[action]} — ${leg.name}` });
  } catch (err) {
    result.textContent = fmt(T.action_failed, { m: err.message });
  } finally {
    button.disabled = false;
  }
}

// ---- alarms -----------------------------------------------------------------------------------------
function renderAlarms() {
  const list = document.getElementById("alarms");
  const alarms = [...state.alarms.values()].sort((a, b) => b.raised_at.localeCompare(a.raised_at));
  document.getElementById("alarm-count").textContent = String(alarms.filter((a) => !a.acknowledged_at).length);
  if (!alarms.length) return list.replaceChildren(el("li", "muted", T.no_alarms));
  list.replaceChildren(...alarms.map((alarm) => {
    const li = el("li", `alarm sev-${alarm.severity}` + (alarm.acknowledged_at ? " acked" : ""));
    li.dataset.alarmId = alarm.id;
    li.dataset.kind = alarm.kind;
    li.append(el("div", "alarm-text", alarm.message));
    const meta = `${T["severity_" + alarm.severity] || alarm.severity} · ${timeOf(alarm.raised_at)}` +
      (alarm.count > 1 ? ` · ×${alarm.count}` : "");
    li.append(el("div", "alarm-meta", meta));
    if (alarm.acknowledged_at) {
      li.append(el("div", "alarm-meta", `${T.acked} ${timeOf(alarm.acknowledged_at)}`));
    } else {
      const button = el("button", "btn btn-quiet", T.ack);
      button.type = "button";
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          const updated = await post(`/api/v1/alarms/${Number(alarm.id)}/ack`);
          state.alarms.set(updated.id, updated);
          renderAlarms();
        } catch (err) {
          document.getElementById("action-result").textContent = fmt(T.action_failed, { m: err.message });
          button.disabled = false;
        }
      });
      li.append(button);
    }
    return li;
  }));
}

connect();
