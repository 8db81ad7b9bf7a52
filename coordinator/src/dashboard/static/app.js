// @ts-check
/* twinfed consortium dashboard: a read-only view over the coordinator's REST API (researcher or operator token).
 * Plain browser JavaScript, no build step; everything from the API is rendered with textContent, never as HTML. */
(() => {
  'use strict';
  const TOKEN_KEY = 'twinfed.token';
  const REFRESH_MS = 15000;
  const MAX_VERSIONS = 60;
  const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#6e7781'];

  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    /** The study filter of the federation list ('' = every study the token reads). */
    studyId: '',
    federationId: '',
    /** The cohort statistics query shown ('' = the newest of the study filter). */
    queryId: '',
    metric: '',
    timer: 0,
    chart: /** @type {any} */ (null),
  };

  class ApiError extends Error {
    /** @param {string} message @param {string} code @param {number} status */
    constructor(message, code, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  /** The API's path patterns, from /dashboard/api-paths.js (generated from the shared contract). */
  // @ts-ignore TWINFED_PATHS is the global of /dashboard/api-paths.js
  const PATHS = /** @type {Record<string, string>} */ (window.TWINFED_PATHS);

  /**
   * A concrete path: the named pattern with its `:params` filled (URI-encoded), then the query, if any.
   * @param {string} name @param {Record<string, string>} [params] @param {Record<string, string>} [query]
   */
  function path(name, params = {}, query = {}) {
    const p = PATHS[name].replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_, k) => encodeURIComponent(params[k]));
    const q = new URLSearchParams(query).toString();
    return q ? `${p}?${q}` : p;
  }

  /** GET a JSON route with the bearer token. @param {string} path */
  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept: 'application/json' } });
    const body = await res.json().catch(() => null);
    if (!res.ok)
      throw new ApiError(body?.error?.message || res.statusText, body?.error?.code || `HTTP_${res.status}`, res.status);
    return body;
  }

  /** @param {string} tag @param {Record<string, string>} [attrs] @param {(Node|string|number|null|undefined)[]} children */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  /**
   * A table in a horizontally scrolling box; each column is [header, cell(row), class?] ('num' right-aligns, 'wrap' wraps). @template T
   * @param {[string, (row: T) => (Node|string|number|null|undefined), ('num'|'wrap')?][]} columns @param {T[]} rows @param {string} empty
   */
  function table(columns, rows, empty) {
    if (rows.length === 0) return el('p', { class: 'muted' }, empty);
    const cls = (/** @type {string|undefined} */ c) => (c ? { class: c } : {});
    const head = el('tr', {}, ...columns.map(([h, , c]) => el('th', cls(c), h)));
    const body = rows.map((r) => el('tr', {}, ...columns.map(([, cell, c]) => el('td', cls(c), cell(r) ?? '–'))));
    return el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)));
  }

  /** @param {string} id @param {Node} node */
  const show = (id, node) => $(id).replaceChildren(node);
  /** @param {number|null|undefined} x @param {number} [d] */
  const fmt = (x, d = 3) =>
    typeof x !== 'number' || !Number.isFinite(x) ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(d);
  /** @param {string|null|undefined} iso */
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

  function signedIn(yes) {
    $('sign-in').hidden = yes;
    $('app').hidden = !yes;
    $('sign-out').hidden = !yes;
  }

  /** @param {string} token */
  async function signIn(token) {
    state.token = token;
    try {
      await api(path('federations'));
    } catch (e) {
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      const err = /** @type {ApiError} */ (e);
      $('sign-in-error').textContent =
        err.status === 401 || err.status === 403
          ? `The coordinator refused this token (${err.code}).`
          : `Could not reach the coordinator: ${err.message}`;
      $('sign-in-error').hidden = false;
      signedIn(false);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('sign-in-error').hidden = true;
    signedIn(true);
    await refresh();
    clearInterval(state.timer);
    state.timer = window.setInterval(() => void refresh(), REFRESH_MS);
  }

  function signOut() {
    clearInterval(state.timer);
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    signedIn(false);
  }

  async function refresh() {
    try {
      const [feds, sites, studies] = await Promise.all([
        api(path('federations')),
        api(path('adminSites')),
        api(path('studies')),
      ]);
      // The coordinator answers with the token's studies and their federations only; the filter narrows further.
      if (!studies.studies.some((/** @type {any} */ s) => s.id === state.studyId)) state.studyId = '';
      const shown = feds.federations.filter((/** @type {any} */ f) => !state.studyId || f.studyId === state.studyId);
      if (!shown.some((/** @type {any} */ f) => f.id === state.federationId))
        state.federationId = shown.length ? shown[shown.length - 1].id : '';
      renderStudies(studies.studies, feds.federations);
      renderFederations(shown, new Map(studies.studies.map((/** @type {any} */ s) => [s.id, s.name])));
      renderSites(sites.sites);
      renderPrivacyLedger(await api(path('privacyLedger')));
      renderPopulation(await api(path('population', {}, state.federationId ? { federation: state.federationId } : {})));
      await renderCohort(studies.studies);
      $('federation').hidden = !state.federationId;
      if (state.federationId)
        await renderFederation(
          shown.find((/** @type {any} */ f) => f.id === state.federationId),
          sites.sites,
        );
      $('status').textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (e) {
      const err = /** @type {ApiError} */ (e);
      if (err.status === 401) return signOut();
      $('status').textContent = `Refresh failed: ${err.message} (${err.code || 'network'})`;
    }
  }

  /** The study filter and the table of the token's studies. @param {any[]} studies @param {any[]} feds */
  function renderStudies(studies, feds) {
    const select = /** @type {HTMLSelectElement} */ ($('study'));
    const option = (/** @type {string} */ value, /** @type {string} */ label) =>
      el('option', value === state.studyId ? { value, selected: '' } : { value }, label);
    select.replaceChildren(
      option('', studies.length === 1 ? studies[0].name : `all ${studies.length} studies`),
      ...(studies.length > 1 ? studies.map((s) => option(s.id, s.name)) : []),
    );
    show(
      'studies',
      table(
        [
          ['study', (s) => s.name],
          ['id', (s) => s.id],
          ['description', (s) => s.description, 'wrap'],
          ['federations', (s) => feds.filter((f) => f.studyId === s.id).length, 'num'],
        ],
        studies,
        'This token reads no study: ask your operator to add one.',
      ),
    );
  }

  /** @param {any[]} feds @param {Map<string, string>} studyNames */
  function renderFederations(feds, studyNames) {
    const open = (/** @type {any} */ f) => {
      const b = el(
        'button',
        { type: 'button', 'data-federation': f.id },
        f.id === state.federationId ? 'shown' : 'show',
      );
      b.addEventListener('click', () => {
        state.federationId = f.id;
        void refresh();
      });
      return b;
    };
    const t = table(
      [
        ['federation', (f) => f.name],
        ['id', (f) => f.id],
        ['study', (f) => studyNames.get(f.studyId) || f.studyId],
        ['strategy', (f) => f.plan.strategy.name],
        ['state', (f) => f.state],
        ['round', (f) => `${Math.min(f.currentRound, f.plan.rounds)} / ${f.plan.rounds}`, 'num'],
        ['latest version', (f) => f.latestVersionId],
        ['', open],
      ],
      feds,
      'No federations yet.',
    );
    for (const row of t.querySelectorAll('tbody tr'))
      if (row.querySelector(`[data-federation="${CSS.escape(state.federationId)}"]`)) row.classList.add('selected');
    show('federations', t);
  }

  /** @param {any} fed @param {any[]} sites */
  async function renderFederation(fed, sites) {
    if (!fed) return;
    const names = new Map(sites.map((s) => [s.id, s.name]));
    const { models } = await api(path('models', {}, { federation: fed.id }));
    const versions = [...models].sort((a, b) => a.round - b.round).slice(-MAX_VERSIONS);
    const evals = await Promise.all(
      versions.map((v) => api(path('modelEvaluations', { vid: v.id })).then((r) => r.evaluations)),
    );
    $('federation').hidden = false;
    $('federation-title').textContent = `${fed.name} (${fed.id})`;
    const p = fed.plan;
    $('federation-summary').textContent =
      `${p.strategy.name} · ${p.model.kind} on ${p.model.inputs} features · ${p.rounds} rounds, at least ${p.minSites} sites per round · ` +
      `normalisation ${p.data.normalization ?? 'none'} · secure aggregation ${p.privacy.secureAggregation ? 'on' : 'off'} · ` +
      `DP ${p.privacy.dp ? `clip ${p.privacy.dp.clip}, noise ×${p.privacy.dp.noiseMultiplier}, δ ${p.privacy.dp.delta}` : 'off'}`;
    renderChart(versions, evals, names);
    renderCalibration(versions, evals, names);
    await renderCrossSite(fed, names);
    renderVersions(versions, names);
    renderDecisions(fed, (await api(path('federationDecisions', { fid: fed.id }))).decisions);
  }

  /**
   * The cross-site evaluation matrix (plan `crossSiteEvaluation`): the global model and each site's local-only model
   * (rows) on each site's test data (columns), as the coordinator signed it; withheld and missing columns say so.
   * @param {any} fed @param {Map<string, string>} names
   */
  async function renderCrossSite(fed, names) {
    const summary = $('cross-site-summary');
    if (!fed.plan.crossSiteEvaluation) {
      summary.textContent = 'Not asked for by this plan.';
      show('cross-site', el('span'));
      return;
    }
    const view = await api(path('crossSite', { fid: fed.id }));
    const m = view.matrix;
    if (!m) {
      summary.textContent =
        view.state === 'not-started'
          ? 'Begins once the federation has completed.'
          : `In progress (${view.state === 'models' ? 'sealed local models' : 'results'}): ` +
            `${(view.state === 'models' ? view.answered : view.reported).length} of ${view.candidates.length} sites so far.`;
      show('cross-site', el('span'));
      return;
    }
    const metric = m.metric === 'cIndex' ? 'C-index' : 'AUC';
    const name = (/** @type {string} */ id) => names.get(id) || id;
    summary.textContent =
      `${metric} of each model (rows) on each site's test data (columns), signed by the coordinator on ${when(m.completedAt)}` +
      (m.refused.length ? ` · refused by site policy: ${m.refused.map(name).join(', ')}` : '') +
      (m.silent.length ? ` · silent past the deadline: ${m.silent.map(name).join(', ')}` : '');
    /** @type {[string, (row: any) => (string|number|null), ('num'|'wrap')?][]} */
    const columns = [
      [
        'model',
        (r) =>
          r === 'n'
            ? 'n (test rows)'
            : r.model === 'global'
              ? `global ${m.globalVersionId}`
              : `local ${name(r.siteId)}`,
      ],
      ...m.columns.map(
        (/** @type {any} */ c, /** @type {number} */ i) =>
          /** @type {[string, (row: any) => (string|number|null), 'num']} */ ([
            name(c.siteId),
            (r) => (c.status !== 'reported' ? c.status : r === 'n' ? c.n : fmt(r.values[i])),
            'num',
          ]),
      ),
    ];
    const t = table(columns, [...m.rows, 'n'], 'No site took part.');
    t.setAttribute('data-metric', m.metric);
    show('cross-site', t);
  }

  /** Each site's decision about the federation's current plan (sites decide at home; only the decision is shown). */
  function renderDecisions(/** @type {any} */ fed, /** @type {any[]} */ decisions) {
    const approved = decisions.filter((d) => d.decision === 'approved').length;
    const required = fed.plan.governance?.requireApprovals;
    $('decisions-summary').textContent =
      `${approved} of ${decisions.length} sites approved the current plan` +
      (required
        ? ` · rounds select only approving sites and need at least ${fed.plan.minSites}`
        : ' · sites that rejected or revoked it are not selected');
    show(
      'decisions',
      table(
        [
          ['site', (d) => d.siteName],
          ['decision', (d) => d.decision],
          ['decided', (d) => (d.decidedAt ? new Date(d.decidedAt).toLocaleString() : '–')],
          ['plan hash', (d) => (d.planSha256 ? `${d.planSha256.slice(0, 12)}…` : '–')],
        ],
        decisions,
        'No site is enrolled.',
      ),
    );
  }

  /** @param {any[]} versions @param {any[][]} evals @param {Map<string,string>} names */
  function renderChart(versions, evals, names) {
    const metrics = [...new Set(evals.flat().flatMap((e) => Object.keys(e.metrics)))].sort();
    const select = /** @type {HTMLSelectElement} */ ($('metric'));
    if (!metrics.includes(state.metric)) state.metric = metrics.includes('auc') ? 'auc' : metrics[0] || '';
    select.replaceChildren(
      ...metrics.map((m) => el('option', m === state.metric ? { value: m, selected: '' } : { value: m }, m)),
    );
    const siteIds = [...new Set(evals.flat().map((e) => e.siteId))].sort((a, b) =>
      (names.get(a) || a).localeCompare(names.get(b) || b),
    );
    if (!state.metric || siteIds.length === 0) {
      show('chart', el('p', { class: 'muted' }, 'No site has reported an evaluation yet.'));
      return;
    }
    const rounds = versions.map((v) => v.round);
    const series = siteIds.map((sid) =>
      versions.map((_, i) => evals[i].find((e) => e.siteId === sid)?.metrics[state.metric] ?? null),
    );
    const data = [rounds, ...series];
    const values = series.flat().filter((x) => typeof x === 'number');
    const unit = values.every((x) => x >= 0 && x <= 1);
    const opts = {
      width: Math.min(1100, $('federation').clientWidth - 40),
      height: 280,
      scales: { x: { time: false }, y: unit ? { range: [0, 1] } : {} },
      axes: [{ label: 'round', incrs: [1, 2, 5, 10, 20, 50, 100] }, { label: state.metric }],
      series: [
        { label: 'round' },
        ...siteIds.map((sid, i) => ({
          label: names.get(sid) || sid,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: true,
          points: { size: 5 },
        })),
      ],
    };
    state.chart?.destroy();
    const host = el('div', {
      id: 'chart-canvas',
      'data-sites': String(siteIds.length),
      'data-points': String(rounds.length),
    });
    show('chart', host);
    // @ts-ignore uPlot is the global of /dashboard/uplot.js
    state.chart = new uPlot(opts, data, host);
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  /** @param {string} tag @param {Record<string, string|number>} attrs @param {Node[]} children */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    node.append(...children);
    return node;
  }

  /**
   * The points of a reliability curve: one per bin the site released (withheld and empty bins omitted).
   * @param {{ bins: { n: number, meanPredicted: number|null, observedRate: number|null }[] }} calibration
   * @param {(v: number) => number} at
   * @param {number} size
   */
  function curvePoints(calibration, at, size) {
    return calibration.bins
      .filter((b) => b.meanPredicted !== null && b.observedRate !== null)
      .map((b) => [at(/** @type {number} */ (b.meanPredicted)), size - at(/** @type {number} */ (b.observedRate))]);
  }

  /**
   * One site's reliability curve as a small inline SVG: predicted probability (x) against the observed positive rate
   * (y), the diagonal being perfect calibration; one point per bin the site released (withheld and empty bins omitted).
   * With `before` (a recalibrated version), the final version's curve is drawn too, dashed, in the second colour.
   * @param {{ bins: { n: number, meanPredicted: number|null, observedRate: number|null }[] }} calibration
   * @param {{ bins: { n: number, meanPredicted: number|null, observedRate: number|null }[] }} [before]
   */
  function reliabilitySvg(calibration, before) {
    const size = 140;
    const pad = 14;
    const at = (/** @type {number} */ v) => pad + v * (size - 2 * pad);
    const xy = curvePoints(calibration, at, size);
    const curve = (
      /** @type {number[][]} */ pts,
      /** @type {string} */ color,
      /** @type {string} */ name,
      dashed = false,
    ) => [
      svg('polyline', {
        class: name,
        points: pts.map((p) => p.join(',')).join(' '),
        fill: 'none',
        stroke: color,
        'stroke-width': 2,
        ...(dashed ? { 'stroke-dasharray': '4 2' } : {}),
      }),
      ...pts.map(([x, y]) => svg('circle', { cx: x, cy: y, r: 3, fill: color })),
    ];
    return svg(
      'svg',
      {
        class: 'reliability',
        width: size,
        height: size,
        viewBox: `0 0 ${size} ${size}`,
        role: 'img',
        'data-points': xy.length,
        ...(before ? { 'data-before-points': curvePoints(before, at, size).length } : {}),
      },
      svg('title', {}, document.createTextNode('Reliability curve: predicted probability against observed rate')),
      svg('rect', { x: pad, y: pad, width: size - 2 * pad, height: size - 2 * pad, fill: 'none', stroke: '#d0d7de' }),
      svg('line', {
        x1: at(0),
        y1: size - at(0),
        x2: at(1),
        y2: size - at(1),
        stroke: '#8c959f',
        'stroke-dasharray': '3 3',
      }),
      ...(before ? curve(curvePoints(before, at, size), COLORS[1], 'before', true) : []),
      ...curve(xy, COLORS[0], 'after'),
    );
  }

  /**
   * Calibration of the newest version any site reported a calibration for: per site its ECE and reliability curve.
   * When that version is recalibrated (signed `meta.recalibration`), each site also shows the final version's curve and
   * its ECE before → after, with the fitted parameters above.
   * @param {any[]} versions @param {any[][]} evals @param {Map<string,string>} names
   */
  function renderCalibration(versions, evals, names) {
    let i = versions.length - 1;
    while (i >= 0 && !evals[i].some((e) => e.calibration)) i--;
    if (i < 0) {
      $('calibration-title').textContent = 'Calibration';
      show('calibration', el('p', { class: 'muted' }, 'No site has reported a calibration yet.'));
      return;
    }
    const recal = versions[i].meta.recalibration;
    const b = recal ? versions.findIndex((v) => v.id === recal.baseVersionId) : -1;
    const beforeOf = new Map(b >= 0 ? evals[b].filter((e) => e.calibration).map((e) => [e.siteId, e.calibration]) : []);
    $('calibration-title').textContent = recal
      ? `Calibration before and after recalibration (${versions[i].id}) on each site's held-out data`
      : `Calibration of ${versions[i].id} on each site's held-out data`;
    const sites = evals[i]
      .filter((e) => e.calibration)
      .sort((a, b) => (names.get(a.siteId) || a.siteId).localeCompare(names.get(b.siteId) || b.siteId));
    const fitted = recal
      ? el(
          'p',
          { id: 'recalibration', 'data-method': recal.method },
          recal.method === 'temperature'
            ? `Temperature scaling fitted through the secure sum on ${recal.rows} held-out rows: T = ${fmt(1 / recal.a)}. `
            : `Platt scaling fitted through the secure sum on ${recal.rows} held-out rows: a = ${fmt(recal.a)}, b = ${fmt(recal.b)}. `,
          el('span', { class: 'muted' }, `Dashed red: ${recal.baseVersionId} before; blue: after.`),
        )
      : null;
    show(
      'calibration',
      el(
        'div',
        {},
        fitted,
        el(
          'div',
          { class: 'calibration-sites' },
          ...sites.map((e) => {
            const before = beforeOf.get(e.siteId);
            return el(
              'figure',
              {
                class: 'calibration-site',
                'data-site': e.siteId,
                'data-ece': String(e.calibration.ece),
                ...(before ? { 'data-ece-before': String(before.ece) } : {}),
              },
              reliabilitySvg(e.calibration, before),
              el(
                'figcaption',
                {},
                before
                  ? `${names.get(e.siteId) || e.siteId} · ECE ${fmt(before.ece)} → ${fmt(e.calibration.ece)} · n ${e.n}`
                  : `${names.get(e.siteId) || e.siteId} · ECE ${fmt(e.calibration.ece)} · n ${e.n}`,
              ),
            );
          }),
        ),
      ),
    );
  }

  /** @param {any[]} versions @param {Map<string,string>} names */
  function renderVersions(versions, names) {
    const contributors = (/** @type {any} */ v) =>
      v.meta.contributors
        .map((c) =>
          c.numExamples === undefined
            ? names.get(c.siteId) || c.siteId
            : `${names.get(c.siteId) || c.siteId} (${c.numExamples})`,
        )
        .join(', ');
    const metric = (/** @type {any} */ v) =>
      Object.entries(v.meta.metrics)
        .map(([k, x]) => `${k} ${fmt(/** @type {number} */ (x))}`)
        .join(' · ');
    show(
      'versions',
      table(
        [
          ['round', (v) => v.round, 'num'],
          ['version', (v) => v.id],
          ['parent', (v) => v.parentVersionId],
          ['contributors (examples)', (v) => contributors(v) || '– (initial model)', 'wrap'],
          ['aggregate metrics', (v) => metric(v), 'wrap'],
          ['DP ε', (v) => (v.meta.dpEpsilon === undefined ? '–' : fmt(v.meta.dpEpsilon, 2)), 'num'],
          ['weights sha256', (v) => el('code', { title: v.weightsSha256 }, `${v.weightsSha256.slice(0, 12)}…`)],
          ['signed', (v) => when(v.createdAt)],
        ],
        [...versions].reverse(),
        'No model versions yet.',
      ),
    );
  }

  /** @param {any} view */
  function renderPopulation(view) {
    const count = (/** @type {number|null} */ n) => (n === null ? '<k' : n);
    const ranking = table(
      [
        ['rank', (r) => r.rank, 'num'],
        ['site', (r) => r.name],
        ['high-risk twins', (r) => count(r.highRisk), 'num'],
      ],
      view.ranking,
      'No population reports yet: only sites that run with --twins report population counts (when the plan has data.population), after the first published version.',
    );
    const tiers = table(
      [
        ['risk tier', (t) => t.tier],
        ['twins (released cells)', (t) => t.count, 'num'],
        ['sites suppressed', (t) => t.suppressedSites, 'num'],
      ],
      view.tiers,
      '',
    );
    const k = view.sites[0]?.k;
    const note = el(
      'p',
      { class: 'muted' },
      view.sites.length
        ? `Counts below k = ${k} are suppressed by each site before they leave it; noisy counts where sites chose ε.`
        : '',
    );
    show('population', el('div', {}, ranking, view.tiers.length ? tiers : '', note));
  }

  /** The cohort statistics queries of the study filter, and the chosen one's per-site and combined tables. @param {any[]} studies */
  async function renderCohort(studies) {
    const { queries } = await api(path('cohortQueries', {}, state.studyId ? { study: state.studyId } : {}));
    if (!queries.some((/** @type {any} */ q) => q.id === state.queryId))
      state.queryId = queries.length ? queries[queries.length - 1].id : '';
    const names = new Map(studies.map((s) => [s.id, s.name]));
    const open = (/** @type {any} */ q) => {
      const b = el('button', { type: 'button', 'data-query': q.id }, q.id === state.queryId ? 'shown' : 'show');
      b.addEventListener('click', () => {
        state.queryId = q.id;
        void refresh();
      });
      return b;
    };
    const list = table(
      [
        ['query', (q) => q.query.title, 'wrap'],
        ['study', (q) => names.get(q.studyId) || q.studyId],
        ['source', (q) => q.query.source.kind],
        ['answered', (q) => q.answered, 'num'],
        ['refused', (q) => q.refused, 'num'],
        ['asked', (q) => when(q.createdAt)],
        ['', open],
      ],
      [...queries].reverse(),
      'No cohort statistics queries yet: `twinfed stats query --study <id> --file query.json`.',
    );
    if (!state.queryId) return show('cohort', list);
    const r = await api(path('cohortQuery', { qid: state.queryId }));
    const count = (/** @type {number|null|undefined} */ n) => (n === null ? '<k' : n === undefined ? '–' : n);
    const combined = (/** @type {any} */ c) => (c ? `${c.atLeast ? '≥' : ''}${c.value}` : '–');
    const answered = r.sites.filter((/** @type {any} */ s) => s.table);
    const sites = table(
      [
        ['site', (s) => s.name],
        ['status', (s) => (s.reason ? `${s.status} (${s.reason})` : s.status)],
        ['k', (s) => s.table?.k, 'num'],
        ['ε', (s) => (s.table ? (s.table.epsilon === null ? 'exact' : fmt(s.table.epsilon, 2)) : '–'), 'num'],
        ['suppressed cells', (s) => s.table?.suppressedCells, 'num'],
      ],
      r.sites,
      'No enrolled site to ask.',
    );
    const dims = r.combined.dimensions.map((/** @type {any} */ d) => d.feature).join(' × ') || 'all rows';
    const pooled = r.query.query.summaries?.pooled ? r.query.query.summaries.features : [];
    const cells = table(
      [
        [dims, (c) => c.levels.join(' × ') || 'all'],
        ...answered.map((/** @type {any} */ s) => [
          s.name,
          (/** @type {any} */ c) => count(s.table.cells[c.i].count),
          'num',
        ]),
        ['combined', (c) => combined(c.count), 'num'],
        ...pooled.map((/** @type {string} */ f) => [
          `${f} pooled mean ± sd (n)`,
          (/** @type {any} */ c) => {
            const p = c.pooled?.[f];
            return p ? `${fmt(p.mean, 2)} ± ${fmt(p.sd, 2)} (${p.n})` : '–';
          },
        ]),
      ],
      r.combined.cells.map((/** @type {any} */ c, /** @type {number} */ i) => ({ ...c, i })),
      '',
    );
    const note = el(
      'p',
      { class: 'muted' },
      `<k: suppressed by the site (each applies its own k floor, and its own noise where its policy says); ≥: a site suppressed its part. ` +
        `Total: ${combined(r.combined.total)}.` +
        (r.pendingUnnamed ? ` ${r.pendingUnnamed} more site(s) outside your studies have not answered.` : '') +
        (r.pool ? ` ${poolNote(r.pool)}` : ''),
    );
    show('cohort', el('div', {}, list, el('h3', {}, `${r.query.query.title} (${r.query.id})`), sites, cells, note));
  }

  /**
   * The secure pool of a query pooled securely, in words.
   * @param {{ state: string, cohort: number, contributed: number, code: string | null }} pool
   */
  function poolNote(pool) {
    if (pool.state === 'waiting') return 'Secure pool: waiting for every site to answer.';
    if (pool.state === 'open')
      return `Secure pool: ${pool.contributed} of ${pool.cohort} sites sent their masked sums.`;
    if (pool.state === 'failed') return `Secure pool failed (${pool.code}): fewer than 3 sites answered with a table.`;
    return `Pooled securely over ${pool.cohort} sites (no site's own sums were seen).`;
  }

  /** @param {any[]} sites */
  function renderSites(sites) {
    show(
      'sites',
      table(
        [
          ['site', (s) => s.name],
          ['id', (s) => s.id],
          ['status', (s) => (s.revokedAt ? 'revoked' : 'active')],
          ['last seen', (s) => when(s.lastSeenAt)],
          ['missed rounds', (s) => s.missedRounds, 'num'],
          ['key fingerprint', (s) => el('code', {}, s.fingerprint)],
        ],
        sites,
        'No sites enrolled yet.',
      ),
    );
  }

  /**
   * The site-level privacy ledger: one row per site and federation it contributed to, then the site's composed total.
   * @param {{ scope: string, sites: any[] }} ledger
   */
  function renderPrivacyLedger(ledger) {
    $('privacy-ledger-scope').textContent =
      ledger.scope === 'studies' ? "Over your studies' federations only: a site's total elsewhere may be higher." : '';
    const eps = (/** @type {number|null} */ x) => (x === null ? '∞ (no DP)' : fmt(x, 2));
    const delta = (/** @type {number|null} */ x) => (x === null ? '–' : x === 0 ? '0' : x.toExponential(1));
    /** @type {any[]} */
    const rows = ledger.sites.flatMap((/** @type {any} */ s) => [
      ...s.federations.map((/** @type {any} */ f) => ({ site: s.siteName, ...f })),
      {
        site: s.siteName,
        total: true,
        federationName: `total over ${s.federations.length} federation(s)`,
        epsilon: s.total.epsilon,
        plannedEpsilon: s.total.plannedEpsilon,
        delta: s.total.delta,
      },
    ]);
    show(
      'privacy-ledger',
      table(
        [
          ['site', (r) => (r.total ? el('strong', {}, r.site) : r.site)],
          ['federation', (r) => (r.total ? el('strong', {}, r.federationName) : r.federationName)],
          ['mechanism', (r) => (r.total ? 'basic composition' : (r.mechanism ?? 'none'))],
          ['releases', (r) => (r.total ? '' : r.releases), 'num'],
          ['versions contributed', (r) => (r.total ? '' : r.versionsContributed), 'num'],
          ['ε spent', (r) => (r.total ? el('strong', {}, eps(r.epsilon)) : eps(r.epsilon)), 'num'],
          ['δ', (r) => delta(r.delta), 'num'],
          ['ε when complete', (r) => eps(r.plannedEpsilon), 'num'],
        ],
        rows,
        'No site has contributed to a federation yet.',
      ),
    );
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void signIn(/** @type {HTMLInputElement} */ ($('token')).value.trim());
    });
    $('sign-out').addEventListener('click', signOut);
    $('study').addEventListener('change', (ev) => {
      state.studyId = /** @type {HTMLSelectElement} */ (ev.target).value;
      void refresh();
    });
    $('metric').addEventListener('change', (ev) => {
      state.metric = /** @type {HTMLSelectElement} */ (ev.target).value;
      void refresh();
    });
    if (state.token) void signIn(state.token);
  });
})();
