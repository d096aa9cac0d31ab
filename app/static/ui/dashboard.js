// icp-sync dashboard: draws the charts a page carries (figures in <script type="application/json">),
// loads on-demand sections (backtest, preview) into the page, and a few form niceties.
// Plain JavaScript, no build step; Chart.js is vendored next to it.
"use strict";

const TIER_COLOURS = { A: "#1f7a4d", B: "#4c9f70", C: "#d9a441", D: "#b8bec8" };
const ACCENT = "#3756c8";
const MUTED = "#9aa3b2";

function figures(canvas) {
  const source = document.getElementById(canvas.dataset.source);
  return source ? JSON.parse(source.textContent) : null;
}

function percent(value) {
  return value === null || value === undefined ? null : Math.round(value * 1000) / 10;
}

const BUILDERS = {
  // Accounts per tier (overview).
  tiers(data) {
    const tiers = Object.keys(data);
    return {
      type: "bar",
      data: {
        labels: tiers.map((t) => `Tier ${t}`),
        datasets: [{ label: "accounts", data: tiers.map((t) => data[t]), backgroundColor: tiers.map((t) => TIER_COLOURS[t]) }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    };
  },
  // Win rate per tier with its 95% interval (backtest).
  winrate(data) {
    const tiers = data.tiers;
    return {
      type: "bar",
      data: {
        labels: tiers.map((t) => `Tier ${t.tier}`),
        datasets: [
          {
            type: "line",
            label: "win rate %",
            data: tiers.map((t) => percent(t.win_rate)),
            borderColor: ACCENT,
            backgroundColor: ACCENT,
            showLine: false,
            pointRadius: 5,
          },
          {
            label: "95% interval",
            data: tiers.map((t) => (t.win_rate_ci ? [percent(t.win_rate_ci[0]), percent(t.win_rate_ci[1])] : null)),
            backgroundColor: tiers.map((t) => TIER_COLOURS[t.tier] + "66"),
            borderColor: tiers.map((t) => TIER_COLOURS[t.tier]),
            borderWidth: 1,
            barPercentage: 0.35,
          },
        ],
      },
      options: {
        plugins: { title: { display: true, text: "Win rate per tier (95% interval)" } },
        scales: { y: { beginAtZero: true, title: { display: true, text: "% won" } } },
      },
    };
  },
  // Share of wins captured by the best-scored share of accounts (backtest).
  gains(data) {
    const points = [{ x: 0, y: 0 }].concat(data.gains.map((g) => ({ x: percent(g.share_of_accounts), y: percent(g.share_of_wins) })));
    return {
      type: "line",
      data: {
        datasets: [
          { label: "this ICP", data: points, borderColor: ACCENT, backgroundColor: ACCENT, pointRadius: 2 },
          { label: "random", data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], borderColor: MUTED, borderDash: [4, 4], pointRadius: 0 },
        ],
      },
      options: {
        plugins: { title: { display: true, text: "Gains: share of wins in the top-scored share of accounts" } },
        scales: {
          x: { type: "linear", min: 0, max: 100, title: { display: true, text: "% of accounts, best scores first" } },
          y: { min: 0, max: 100, title: { display: true, text: "% of wins" } },
        },
      },
    };
  },
  // Each trait's lift with its interval (discovery).
  lift(traits) {
    const shown = traits.filter((t) => t.lift !== null);
    return {
      type: "bar",
      data: {
        labels: shown.map((t) => t.label),
        datasets: [
          {
            type: "line",
            label: "lift",
            data: shown.map((t) => t.lift),
            borderColor: ACCENT,
            backgroundColor: ACCENT,
            showLine: false,
            pointRadius: 4,
          },
          {
            label: "95% interval",
            data: shown.map((t) => (t.lift_ci ? t.lift_ci : null)),
            backgroundColor: shown.map((t) => (t.selected ? ACCENT + "99" : MUTED + "55")),
            borderColor: shown.map((t) => (t.selected ? ACCENT : MUTED)),
            borderWidth: 1,
            barPercentage: 0.6,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { title: { display: true, text: "Lift (win rate with the trait ÷ without), 1× = no difference" } },
        scales: { x: { beginAtZero: true, title: { display: true, text: "lift ×" } } },
      },
    };
  },
};

function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
    if (canvas.dataset.drawn) continue;
    const data = figures(canvas);
    const build = BUILDERS[canvas.dataset.chart];
    if (!data || !build) continue;
    new Chart(canvas, build(data));
    canvas.dataset.drawn = "true";
  }
}

// Sections computed on request: the form's fields become the query, the answer (an HTML
// fragment, or an error page) goes into the target.
async function loadFragment(form) {
  const target = document.getElementById(form.dataset.target);
  const button = form.querySelector("button[type=submit]");
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value) query.append(name, value);
  const url = form.dataset.fragment + (query.size ? `?${query}` : "");
  target.classList.add("loading");
  target.textContent = "Computing… this reads every account concerned.";
  if (button) button.disabled = true;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const html = await response.text();
    if (response.ok) {
      target.innerHTML = html;
    } else {
      const page = new DOMParser().parseFromString(html, "text/html");
      const main = page.querySelector("main");
      target.innerHTML = main ? main.innerHTML : `<p class="alert">Failed (${response.status}).</p>`;
    }
    drawCharts(target);
  } catch (error) {
    target.textContent = `Could not reach the service: ${error.message}`;
  } finally {
    target.classList.remove("loading");
    if (button) button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts(document);
  for (const form of document.querySelectorAll("form[data-fragment]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      loadFragment(form);
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const form of document.querySelectorAll("form")) {
    // A second click while a slow action (discovery, a health check) runs would run it twice.
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented || form.dataset.fragment) return;
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    });
  }
});
