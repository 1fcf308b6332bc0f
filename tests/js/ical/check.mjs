// Parse iCalendar files with Mozilla's ical.js (the parser of Thunderbird's calendar) and report, per file,
// the problems found and the occurrences it expands to.
//
// stdin: {"files": {"name": "BEGIN:VCALENDAR...", ...}, "from": "2026-01-01T00:00:00Z", "to": "..."}
// stdout: {"name": {"errors": [...], "occurrences": [{"uid", "start", "end"}...]}, ...}  (UTC ISO instants)
//
// Every property must have the value type RFC 5545 / RFC 7986 / [MS-OXCICAL] give it (VALUE= parameter
// or the default), and every value goes through ical.js's parser for that type and back to text unchanged:
// a DURATION written as "0:05:00" or a DATE-TIME that is not one is an error here.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

// Value types: RFC 5545 §3.7-3.8, RFC 7986 §5, [MS-OXCICAL] 2.1.3.1.1 (X-PUBLISHED-TTL is a Duration).
const EXPECTED = {
  prodid: "text", version: "text", calscale: "text", method: "text",
  name: "text", "x-wr-calname": "text", "refresh-interval": "duration", "x-published-ttl": "duration",
  uid: "text", dtstamp: "date-time", summary: "text", location: "text", description: "text",
  organizer: "cal-address", attendee: "cal-address", "last-modified": "date-time", transp: "text",
  dtstart: "date-time", dtend: "date-time", sequence: "integer", status: "text", rrule: "recur",
  exdate: "date-time", "recurrence-id": "date-time", action: "text", trigger: "duration",
  tzid: "text", tzname: "text", tzoffsetfrom: "utc-offset", tzoffsetto: "utc-offset", comment: "text",
  rdate: "date-time",
};
// ical.js does not know these properties; teach it their types so their values are parsed as such.
ICAL.design.icalendar.property["x-published-ttl"] = { defaultType: "duration" };
ICAL.design.icalendar.property["refresh-interval"] = { defaultType: "duration" };
ICAL.design.icalendar.property.name = { defaultType: "text" };
ICAL.design.icalendar.property["x-wr-calname"] = { defaultType: "text" };

function checkValues(prop, where, errors) {
  const expected = EXPECTED[prop.name];
  if (!expected) {
    errors.push(`${where}: ${prop.name.toUpperCase()} has no known value type`);
    return;
  }
  if (prop.type !== expected) {
    errors.push(`${where}: ${prop.name.toUpperCase()} is ${prop.type}, should be ${expected}`);
    return;
  }
  const raw = prop.toJSON().slice(3);
  let values;
  try {
    values = prop.getValues(); // the type's decorator: Duration, Time, Recur, UtcOffset...
  } catch (e) {
    errors.push(`${where}: ${prop.name.toUpperCase()} ${JSON.stringify(raw)}: ${e.message}`);
    return;
  }
  // RFC 5545 §3.8.7.2/§3.8.7.3: DTSTAMP and LAST-MODIFIED are UTC; §3.3.10: UNTIL is UTC next to a TZID.
  const utc = ["dtstamp", "last-modified"].includes(prop.name);
  values.forEach((value, i) => {
    if (utc && !String(raw[i]).endsWith("Z")) errors.push(`${where}: ${prop.name.toUpperCase()} ${raw[i]} is not UTC`);
    if (expected === "recur" && value.until && !String(raw[i].until).endsWith("Z")) {
      errors.push(`${where}: RRULE UNTIL ${raw[i].until} is not UTC`);
    }
    if (expected === "text" || expected === "cal-address") return;
    let back;
    if (expected === "recur") back = value.toJSON();
    else if (expected === "integer") back = value;
    else back = value.toString();
    const same = JSON.stringify(back) === JSON.stringify(raw[i]) ||
      (expected === "date-time" && ICAL.Time.fromDateTimeString(raw[i]).compare(value) === 0 && !isNaN(value.toUnixTime()));
    if (!same || (typeof back === "number" && !Number.isFinite(back))) {
      errors.push(`${where}: ${prop.name.toUpperCase()} ${JSON.stringify(raw[i])} does not read back as ${expected} (${JSON.stringify(back)})`);
    }
  });
}

// ical.js reads a bad INTEGER as 0 without a word: check those lexically on the unfolded text.
function checkIntegers(text, errors) {
  for (const line of text.replace(/\r?\n[ \t]/g, "").split(/\r?\n/)) {
    const match = /^([A-Za-z0-9-]+)(;[^:]*)?:(.*)$/.exec(line);
    if (match && EXPECTED[match[1].toLowerCase()] === "integer" && !/^[+-]?\d+$/.test(match[3])) {
      errors.push(`${match[1]} ${JSON.stringify(match[3])} is not an integer`);
    }
  }
}

function walk(component, path, errors) {
  const where = `${path}${component.name.toUpperCase()}`;
  for (const prop of component.getAllProperties()) checkValues(prop, where, errors);
  for (const child of component.getAllSubcomponents()) walk(child, `${where}/`, errors);
}

function occurrences(calendar, from, to, errors) {
  const out = [];
  const masters = new Map();
  const exceptions = [];
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    if (vevent.hasProperty("recurrence-id")) exceptions.push(event);
    else masters.set(event.uid, event);
  }
  for (const exception of exceptions) {
    const master = masters.get(exception.uid);
    if (master) master.relateException(exception);
    else out.push({ uid: exception.uid, start: iso(exception.startDate), end: iso(exception.endDate) });
  }
  for (const event of masters.values()) {
    if (!event.isRecurring()) {
      out.push({ uid: event.uid, start: iso(event.startDate), end: iso(event.endDate) });
      continue;
    }
    const it = event.iterator();
    let next;
    let guard = 0;
    while ((next = it.next())) {
      if (++guard > 5000) { errors.push(`${event.uid}: more than 5000 occurrences`); break; }
      const details = event.getOccurrenceDetails(next);
      if (details.startDate.toJSDate() >= to) break;
      if (details.endDate.toJSDate() <= from) continue;
      out.push({ uid: event.uid, start: iso(details.startDate), end: iso(details.endDate) });
    }
  }
  return out.sort((a, b) => (a.start + a.uid).localeCompare(b.start + b.uid));
}

function iso(time) {
  return time.toJSDate().toISOString().replace(".000Z", "Z");
}

const request = JSON.parse(readFileSync(0, "utf8"));
const from = new Date(request.from);
const to = new Date(request.to);
const report = {};
for (const [name, text] of Object.entries(request.files)) {
  const errors = [];
  let result = [];
  try {
    const calendar = new ICAL.Component(ICAL.parse(text));
    // VTIMEZONEs first, so TZID times resolve to the file's own definitions.
    for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
    }
    walk(calendar, "", errors);
    checkIntegers(text, errors);
    result = occurrences(calendar, from, to, errors);
    for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.remove(vtimezone.getFirstPropertyValue("tzid"));
    }
  } catch (e) {
    errors.push(`parse: ${e.message}`);
  }
  report[name] = { errors, occurrences: result };
}
process.stdout.write(JSON.stringify(report));
