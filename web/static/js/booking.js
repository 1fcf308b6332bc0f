// The booking form, made quicker: show only the recurrence choices that apply, select a whole site,
// and re-run the server's conflict check as the secretary types (the same dry run as the "Kiểm tra"
// button, so the form also works without JavaScript).  Every text from the server goes through
// textContent: titles and endpoint names are untrusted.

const form = document.getElementById("booking-form");

function t(key, values = {}) {
  let text = form.dataset["i18n" + key] || "";
  for (const [name, value] of Object.entries(values)) text = text.replace("{" + name + "}", value);
  return text;
}

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// ---- recurrence parts --------------------------------------------------------------------------------
function showRepeatParts() {
  const kind = form.querySelector('input[name="repeat"]:checked')?.value || "none";
  for (const part of form.querySelectorAll(".repeat-part")) {
    part.hidden = !part.dataset.repeat.split(" ").includes(kind);
  }
}

// ---- endpoints ---------------------------------------------------------------------------------------
function updateCount() {
  const n = form.querySelectorAll('input[name="endpoint_ids"]:checked').length;
  document.getElementById("selected-count").textContent = t("Count", { n });
  for (const group of form.querySelectorAll(".site-group")) {
    const boxes = [...group.querySelectorAll('input[name="endpoint_ids"]')];
    const button = group.querySelector(".select-site");
    if (button) button.textContent = boxes.every((b) => b.checked) ? t("ClearSite") : t("SelectSite");
  }
  const all = document.getElementById("select-all");
  const boxes = [...form.querySelectorAll('input[name="endpoint_ids"]')];
  if (all) all.textContent = boxes.every((b) => b.checked) ? t("ClearAll") : t("SelectAll");
}

function setupSiteButtons() {
  const all = document.getElementById("select-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("click", () => {
      const boxes = [...form.querySelectorAll('input[name="endpoint_ids"]')];
      const every = boxes.every((b) => b.checked);
      for (const box of boxes) box.checked = !every;
      updateCount();
      scheduleCheck();
    });
  }
  for (const button of form.querySelectorAll(".select-site")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const group = button.closest(".site-group");
      const boxes = [...group.querySelectorAll('input[name="endpoint_ids"]')];
      const all = boxes.every((b) => b.checked);
      for (const box of boxes) box.checked = !all;
      updateCount();
      scheduleCheck();
    });
  }
}

// ---- live check --------------------------------------------------------------------------------------
let timer = null;
let sequence = 0;

function scheduleCheck() {
  clearTimeout(timer);
  timer = setTimeout(runCheck, 450);
}

async function runCheck() {
  const mine = ++sequence;
  const data = new FormData(form);
  data.delete("action");
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let reply;
  try {
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token },
    });
    if (!response.ok) return;
    reply = await response.json();
  } catch {
    return; // offline or server restarting: the buttons still work
  }
  if (mine !== sequence) return; // a newer check is on its way
  renderAvailability(reply.availability || {});
  renderPreview(reply);
  renderConflicts(reply);
}

function renderAvailability(availability) {
  for (const tag of form.querySelectorAll("[data-avail]")) {
    const busy = availability[tag.dataset.avail];
    if (!(tag.dataset.avail in availability)) {
      tag.textContent = "";
      tag.className = "avail-tag";
    } else if (busy) {
      tag.textContent = t("Busy", { what: busy });
      tag.className = "avail-tag avail-busy";
    } else {
      tag.textContent = t("Free");
      tag.className = "avail-tag avail-free";
    }
  }
}

function renderHolidays(reply) {
  // Public holidays: what a series skips, or the warning for a one-off (words made by the server).
  const box = document.getElementById("holiday-warnings");
  if (box) box.replaceChildren(...(reply.holidays || []).map((text) => el("p", {}, text)));
}

function renderPreview(reply) {
  renderHolidays(reply);
  const box = document.getElementById("preview-box");
  const list = document.getElementById("preview-list");
  list.replaceChildren(...(reply.preview || []).map((text, i) =>
    el("li", {}, `${reply.preview_weekdays[i]}, ${text}`)));
  document.getElementById("repeat-summary").textContent = reply.summary || "";
  let skipped = document.getElementById("skipped-list");
  if (reply.skipped && reply.skipped.length) {
    if (!skipped) {
      skipped = el("p", { id: "skipped-list", class: "small muted" });
      list.after(skipped);
    }
    skipped.textContent = `${t("Skipped")} ${reply.skipped.join(", ")}`;
  } else if (skipped) {
    skipped.remove();
  }
  let rule = document.getElementById("rrule-text");
  if (reply.rrule) {
    if (!rule) {
      rule = el("p", { id: "rrule-text", class: "rrule-text" });
      box.append(rule);
    }
    rule.textContent = "RRULE:" + reply.rrule;
  } else if (rule) {
    rule.remove();
  }
  box.hidden = !(reply.preview && reply.preview.length);
}

function renderConflicts(reply) {
  const target = document.getElementById("check-result");
  if (!reply.checked) return; // the form is incomplete: keep what the server rendered
  const parts = [];
  if (reply.conflicts.length) {
    const alert = el("div", { class: "alert alert-error conflicts", role: "alert", id: "conflicts" });
    alert.append(el("h3", {}, t("ConflictTitle")));
    const ul = el("ul");
    for (const line of reply.conflicts) ul.append(el("li", {}, line));
    alert.append(ul);
    if (reply.more) alert.append(el("p", {}, t("More", { n: reply.more })));
    parts.push(alert);
    if (reply.suggestion) {
      const proposal = el("div", { class: "alert alert-ok proposal", id: "proposal" });
      const p = el("p", {}, t("Proposal") + " ");
      p.append(el("strong", {}, reply.suggestion_text));
      proposal.append(p);
      const use = el("button", { type: "submit", class: "btn btn-primary btn-small", name: "suggest",
                                  value: reply.suggestion }, t("Use"));
      proposal.append(use);
      parts.push(proposal);
    } else {
      parts.push(el("p", { class: "alert alert-warn" }, t("NoneFree")));
    }
  } else {
    parts.push(el("p", { class: "alert alert-ok", id: "no-conflicts" }, t("NoConflict")));
  }
  target.replaceChildren(...parts);
}

// "+ group": tick the group's endpoints besides those chosen (without script the button posts the form
// and the server ticks them).
function setupGroupButtons() {
  for (const button of form.querySelectorAll(".group-pick")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const ids = new Set((button.dataset.endpoints || "").split(",").filter(Boolean));
      for (const box of form.querySelectorAll('input[name="endpoint_ids"]')) {
        if (ids.has(box.value)) box.checked = true;
      }
      updateCount();
      scheduleCheck();
    });
  }
}

if (form) {
  showRepeatParts();
  setupSiteButtons();
  setupGroupButtons();
  updateCount();
  form.addEventListener("change", (event) => {
    if (event.target.name === "repeat") showRepeatParts();
    if (event.target.name === "endpoint_ids") updateCount();
    scheduleCheck();
  });
  form.addEventListener("input", (event) => {
    if (event.target.type === "text" || event.target.type === "number" || event.target.tagName === "TEXTAREA") {
      scheduleCheck();
    }
  });
}
