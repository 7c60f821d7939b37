// Cairn dashboard: plain JavaScript, no third-party code. Each page polls the gateway's read-only JSON once a second
// (docs/dashboard.md) and redraws; charts are hand-written SVG.
"use strict";

const POLL_MS = 1000;
const PAGES = ["overview", "requests", "challenges", "earnings", "pipeline"];
const COLORS = ["#2f6fdd", "#d64545", "#1f9d55", "#c98a00", "#8e44ad", "#16a2b8", "#e67e22", "#5d6d7e"];
const main = document.getElementById("main");
const statusEl = document.getElementById("status");
const feed = { after: 0, entries: [] }; // the requests seen so far, oldest first (the gateway keeps the last 500)
let timer = null;

const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const short = id => id && id.length > 14 ? id.slice(0, 8) + "…" + id.slice(-4) : (id ?? "");
const num = n => Number(n ?? 0).toLocaleString("en-US");
const time = t => new Date(t).toLocaleTimeString("en-GB", { hour12: false });
const badge = (text, kind) => `<span class="badge ${kind}">${esc(text)}</span>`;
const card = (k, v, id) => `<div class="card"${id ? ` data-total="${id}"` : ""}><div class="v">${esc(v)}</div><div class="k">${esc(k)}</div></div>`;

async function json(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function page() {
  const m = location.pathname.match(/^\/dashboard\/([a-z]+)/);
  return m && PAGES.includes(m[1]) ? m[1] : "overview";
}

function show(name) {
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.page === name));
  document.body.dataset.page = name;
  clearTimeout(timer);
  main.innerHTML = `<p class="muted">loading…</p>`;
  tick();
}

async function tick() {
  const name = page();
  try {
    await RENDER[name]();
    statusEl.textContent = "live · updated " + time(Date.now());
    statusEl.classList.remove("down");
  } catch (e) {
    statusEl.textContent = "gateway unreachable: " + e.message;
    statusEl.classList.add("down");
  }
  if (page() === name) timer = setTimeout(tick, POLL_MS);
}

// ---- Overview ----
async function overview() {
  const n = await json("/v1/network");
  const t = n.totals;
  const rows = n.providers.map(p => `<tr data-provider-id="${esc(p.id)}">
      <td><code title="${esc(p.id)}">${esc(p.id)}</code></td>
      <td>${p.refused ? badge("refused", "bad") : p.healthy ? badge("healthy", "ok") : badge("unhealthy", "warn")}${p.eligible ? "" : " " + badge("not eligible", "grey")}</td>
      <td class="num">${num(p.stake)}</td><td class="num">${num(p.earnings)}</td><td class="num">${p.reputation.toFixed(3)}</td>
      <td>${p.models.map(m => `${esc(m.name)} <span class="muted">${esc(m.architecture)} ${esc(m.weight_type)} · layers: ${esc(m.layers)}</span>`).join("<br>")}</td>
      <td class="num">${p.active} / ${p.max_concurrent}</td><td class="num">${num(p.served)}</td><td class="num">${num(p.failures)}</td>
      <td class="num">${num(p.price_per_token)}</td><td class="num">${p.decode_tok_s.toFixed(0)}</td></tr>`).join("");
  main.innerHTML = `
    <div class="cards">
      ${card("providers healthy / known", `${t.healthy_providers} / ${t.known_providers}`, "providers")}
      ${card("requests", num(t.requests), "requests")}
      ${card("tokens (prompt + completion)", `${num(t.prompt_tokens)} + ${num(t.completion_tokens)}`, "tokens")}
      ${card("challenges", num(t.challenges), "challenges")}
      ${card("disputes", num(t.disputes), "disputes")}
      ${card("slashed (micro)", num(t.slashed), "slashed")}
      ${card("ledger entries · epoch", `${num(t.ledger_entries)} · ${n.epoch}`, "ledger")}
    </div>
    <p class="muted">gateway <code>${esc(n.gateway)}</code> · challenge rate ${esc(n.challenge_rate)} · ${n.validators} validator(s) · referee ${n.referee ? "loaded" : "none"}</p>
    <h2>Providers</h2>
    ${n.providers.length === 0 ? `<div class="empty">No provider has registered yet.</div>` : `<table id="providers">
      <thead><tr><th>provider</th><th>health</th><th class="num">stake</th><th class="num">earnings</th><th class="num">reputation</th><th>models (layer range)</th>
      <th class="num">load</th><th class="num">served</th><th class="num">failures</th><th class="num">price/token</th><th class="num">decode tok/s</th></tr></thead>
      <tbody>${rows}</tbody></table>`}`;
}

// ---- Requests ----
async function requests() {
  const fresh = await json("/v1/network/requests?after=" + feed.after);
  const known = new Set(feed.entries.map(e => e.seq));
  const added = fresh.filter(e => !known.has(e.seq));
  feed.entries.push(...added);
  if (feed.entries.length > 500) feed.entries.splice(0, feed.entries.length - 500);
  if (fresh.length) feed.after = fresh[fresh.length - 1].seq;
  if (added.length === 0 && main.querySelector("#feed, #feed-empty")) return;
  const newest = new Set(added.map(e => e.seq));
  const rows = feed.entries.slice().reverse().map(e => `<tr data-request-id="${esc(e.id)}"${newest.has(e.seq) && feed.drawn ? ` class="new"` : ""}>
      <td>${time(e.created)}</td><td><code>${esc(e.id)}</code></td><td>${esc(e.model)}</td><td><code title="${esc(e.provider)}">${esc(short(e.provider))}</code></td>
      <td class="num">${e.prompt_tokens} + ${e.completion_tokens}</td><td class="num">${num(e.price)}</td>
      <td><details><summary><code>${esc(short(e.receipt_hash))}</code></summary><div class="mono">
        receipt ${esc(e.receipt_hash)}<br>request ${esc(e.request_hash)}<br>output commitment ${esc(e.output_commitment)}<br>trace root ${esc(e.trace_root)}<br>
        <a href="/v1/receipts/${encodeURIComponent(e.id)}">signed receipt</a> <span class="muted">(needs the API key)</span></div></details></td></tr>`).join("");
  feed.drawn = true;
  main.innerHTML = `<h2>Live requests <span class="muted">(newest first, ${feed.entries.length} shown)</span></h2>
    ${feed.entries.length === 0 ? `<div class="empty" id="feed-empty">No request yet. Send one to /v1/completions and it appears here.</div>` : `<table id="feed">
      <thead><tr><th>time</th><th>id</th><th>model</th><th>provider</th><th class="num">tokens</th><th class="num">price</th><th>receipt</th></tr></thead><tbody>${rows}</tbody></table>`}`;
}

// ---- Challenges & disputes ----
async function challenges() {
  const r = await json("/v1/network/challenges");
  const cs = r.challenges;
  const verdictKind = v => v === "match" ? "ok" : v.startsWith("mismatch") ? "bad" : "grey";
  main.innerHTML = `<p class="muted">challenge rate ${esc(r.challenge_rate)} · ${r.validators} validator(s) · referee ${r.referee ? "loaded" : "none"} · ${r.pending} pending</p>
    <h2>Timeline</h2>${timeline(cs)}
    <h2>Challenges <span class="muted">(newest first)</span></h2>
    ${cs.length === 0 ? `<div class="empty">No challenge yet${r.challenge_rate === "0" ? " (challenges are off: cairn gateway --challenge-rate P)" : ""}.</div>` : `<table id="challenges">
      <thead><tr><th>time</th><th>request</th><th>asserter</th><th>validator</th><th>verdict</th><th>dispute</th><th class="num">slashed</th><th class="num">reward</th></tr></thead><tbody>
      ${cs.slice().reverse().map(c => `<tr data-challenge-id="${esc(c.id)}" class="${c.slashed > 0 ? "slash" : ""}">
        <td>${time(c.at)}</td><td><code title="${esc(c.request_id)}">${esc(c.request_id.slice(0, 13))}…</code></td><td><code title="${esc(c.asserter)}">${esc(short(c.asserter))}</code></td>
        <td><code title="${esc(c.validator ?? "")}">${esc(short(c.validator ?? "—"))}</code></td><td>${badge(c.verdict, verdictKind(c.verdict))}</td>
        <td>${c.dispute ? `${esc(c.dispute.kind)} · loser <code>${esc(short(c.dispute.loser ?? "none"))}</code>${c.dispute.evidence ? ` · <a href="/v1/disputes/${encodeURIComponent(c.dispute.id)}/evidence">evidence</a> <span class="muted">(API key)</span>` : ""}<br><span class="muted">${esc(c.dispute.detail)}</span>` : ""}</td>
        <td class="num">${c.slashed > 0 ? `<b class="slashed">${num(c.slashed)}</b>` : "0"}</td><td class="num">${num(c.reward)}</td></tr>`).join("")}</tbody></table>`}
    <h2>Stake</h2><table><thead><tr><th>provider</th><th class="num">stake</th><th class="num">earnings</th><th>eligible</th></tr></thead><tbody>
    ${r.providers.map(p => `<tr><td><code>${esc(p.id)}</code></td><td class="num">${num(p.stake)}</td><td class="num">${num(p.earnings)}</td><td>${p.eligible ? badge("yes", "ok") : badge("no", "bad")}</td></tr>`).join("")}</tbody></table>
    <h2>Epochs</h2><table><thead><tr><th>epoch</th><th>secret commitment</th><th>revealed secret</th></tr></thead><tbody>
    ${r.epochs.map(e => `<tr><td>${e.epoch}</td><td><code>${esc(e.commitment)}</code></td><td><code>${esc(e.secret ?? "not yet")}</code></td></tr>`).join("")}</tbody></table>`;
}

/** Challenges on a time axis: a dot per verdict (green match, red mismatch, grey no verdict), a red triangle and the amount for each slash. */
function timeline(cs) {
  const W = 1000, H = 120, L = 80, R = 80;
  if (cs.length === 0) return `<svg id="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle">no challenges yet</text></svg>`;
  const ts = cs.map(c => Date.parse(c.at));
  const t0 = Math.min(...ts), t1 = Math.max(...ts, t0 + 1000);
  const x = t => L + (W - L - R) * (t - t0) / (t1 - t0);
  let s = `<line x1="${L}" y1="70" x2="${W - R}" y2="70" stroke="#dde1e8"/>`;
  s += `<text x="${L}" y="110">${time(t0)}</text><text x="${W - R}" y="110" text-anchor="end">${time(t1)}</text>`;
  cs.forEach((c, i) => {
    const cx = x(ts[i]).toFixed(1);
    const color = c.verdict === "match" ? "#1f9d55" : c.verdict.startsWith("mismatch") ? "#d64545" : "#677086";
    s += `<circle class="verdict" cx="${cx}" cy="70" r="6" fill="${color}"><title>${esc(time(c.at))} ${esc(c.verdict)} (${esc(short(c.asserter))} vs ${esc(short(c.validator ?? "—"))})</title></circle>`;
    if (c.slashed > 0) s += `<g class="slash-marker"><path d="M${cx} 52 l-7 -14 h14 z" fill="#d64545"/><text class="label" x="${cx}" y="30" text-anchor="middle">slashed ${num(c.slashed)}</text>
      <title>${esc(c.dispute?.loser ?? "")} slashed ${num(c.slashed)}</title></g>`;
  });
  return `<svg id="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${s}</svg>
    <div class="legend"><span><i style="background:#1f9d55"></i>match</span><span><i style="background:#d64545"></i>mismatch → dispute</span><span><i style="background:#677086"></i>no verdict</span><span>▼ slash</span></div>`;
}

// ---- Earnings ----
async function earnings() {
  const samples = await json("/v1/network/balances");
  if (samples.length === 0) { main.innerHTML = `<div class="empty">No sample yet.</div>`; return; }
  const accounts = Object.keys(samples[samples.length - 1].balances);
  const of = prefix => accounts.filter(a => a.startsWith(prefix));
  const chart = (id, title, names, label) => `<div><h2>${esc(title)}</h2>${lines(id, samples, names, label)}</div>`;
  main.innerHTML = `<p class="muted">${samples.length} samples, one a second (the gateway keeps the last 15 minutes in memory).</p><div class="charts">
    ${chart("chart-earnings", "Provider earnings (unpaid, micro-units)", of("provider-earnings:"), a => short(a.split(":")[1]))}
    ${chart("chart-stake", "Provider stake (micro-units)", of("provider-stake:"), a => short(a.split(":")[1]))}
    ${chart("chart-clients", "Client balances (micro-units)", of("client:"), a => short(a.split(":")[1]))}
    ${of("royalty:").length ? chart("chart-royalties", "Contributor royalties (models and adapters, micro-units)", of("royalty:"), a => short(a.split(":")[1])) : ""}
    ${chart("chart-pools", "Pools: validator pool, treasury, burned", ["validator-pool", "treasury", "burn"], a => a)}
    ${chart("chart-served", "Requests served per provider", Object.keys(samples[samples.length - 1].served).map(p => "served:" + p), a => short(a.split(":")[1]))}</div>`;
}

/** A line chart of the named series over the samples; "served:ID" reads the served counts, anything else a balance. */
function lines(id, samples, names, label) {
  const W = 560, H = 220, L = 112, R = 10, T = 10, B = 24;
  const value = (s, n) => n.startsWith("served:") ? (s.served[n.slice(7)] ?? 0) : (s.balances[n] ?? 0);
  const ts = samples.map(s => Date.parse(s.at));
  const t0 = ts[0], t1 = Math.max(ts[ts.length - 1], t0 + 1000);
  let lo = Infinity, hi = -Infinity;
  for (const s of samples) for (const n of names) { const v = value(s, n); lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) { hi += 1; lo = Math.max(0, lo - 1); }
  const x = t => L + (W - L - R) * (t - t0) / (t1 - t0), y = v => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  let s = `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#dde1e8"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#dde1e8"/>`;
  s += `<text x="${L - 4}" y="${T + 8}" text-anchor="end">${num(hi)}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">${num(lo)}</text>`;
  s += `<text x="${L}" y="${H - 6}">${time(t0)}</text><text x="${W - R}" y="${H - 6}" text-anchor="end">${time(t1)}</text>`;
  names.forEach((n, i) => {
    const pts = samples.map((smp, k) => `${x(ts[k]).toFixed(1)},${y(value(smp, n)).toFixed(1)}`).join(" ");
    s += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts}"><title>${esc(n)}</title></polyline>`;
  });
  return `<svg id="${id}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${s}</svg>
    <div class="legend">${names.map((n, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(label(n))} ${num(value(samples[samples.length - 1], n))}</span>`).join("")}</div>`;
}

// ---- Pipeline ----
async function pipeline() {
  const [plan, n] = await Promise.all([json("/v1/pipeline"), json("/v1/network")]);
  if (plan.stages.length > 0) {
    const W = 1000, row = 44, L = 200;
    const total = Math.max(...plan.stages.map(s => s.last_layer + 1));
    const x = l => L + (W - L - 20) * l / total;
    let s = "";
    plan.stages.forEach((st, i) => {
      const y = 20 + i * row;
      s += `<text class="label" x="10" y="${y + 18}">${esc(short(st.device))}</text>
        <rect class="stage" x="${x(st.first_layer)}" y="${y}" width="${Math.max(2, x(st.last_layer + 1) - x(st.first_layer))}" height="28" rx="4" fill="${COLORS[i % COLORS.length]}"/>
        <text class="label" x="${x(st.first_layer) + 6}" y="${y + 18}" style="fill:#fff">layers ${st.first_layer}–${st.last_layer}${st.step_seconds != null ? ` · ${(st.step_seconds * 1000).toFixed(2)} ms/step` : ""}</text>`;
    });
    main.innerHTML = `<h2>Pipeline plan (${esc(plan.stages[0].model)}, ${total} layers)</h2><svg id="pipeline" width="${W}" height="${40 + plan.stages.length * row}">${s}</svg>`;
    return;
  }
  const W = 1000, row = 40, L = 200;
  let s = "";
  n.providers.forEach((p, i) => {
    const y = 14 + i * row;
    s += `<text class="label" x="10" y="${y + 18}">${esc(short(p.id))}</text>
      <rect x="${L}" y="${y}" width="${W - L - 20}" height="26" rx="4" fill="${p.healthy ? "#2f6fdd" : "#b8c0cc"}"/>
      <text x="${L + 8}" y="${y + 17}" style="fill:#fff">${esc(p.models.map(m => m.name + ": " + m.layers).join(", "))} · ${p.decode_tok_s.toFixed(0)} tok/s announced</text>`;
  });
  main.innerHTML = `<h2>Pipeline</h2><div class="empty" id="no-plan">No pipeline plan yet (<code>/v1/pipeline</code> has no stages): every provider holds the whole model.</div>
    <svg id="pipeline" width="${W}" height="${Math.max(60, 28 + n.providers.length * row)}">${s}</svg>`;
}

const RENDER = { overview, requests, challenges, earnings, pipeline };

document.querySelector("nav").addEventListener("click", e => {
  const a = e.target.closest("a[data-page]");
  if (!a) return;
  e.preventDefault();
  history.pushState(null, "", a.href);
  show(a.dataset.page);
});
window.addEventListener("popstate", () => show(page()));
show(page());
