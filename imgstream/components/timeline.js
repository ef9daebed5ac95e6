// The browser side of the timeline. The server sends the months (with counts) as
// page state. As a month nears the viewport its days (with counts) arrive here, and the month is
// cut into segments of at most SEGMENT_PHOTOS photos, each a placeholder of the height its
// photos will take; a segment's photos arrive only when it nears the viewport, and React renders
// them from this store (useSyncExternalStore). Segments far from the viewport are dropped again,
// keeping their measured height. Days with few photos share a row, each under its own date.
(() => {
  if (window.imgstreamTimeline) return;

  const SEGMENT_PHOTOS = 120; // photos of a segment at most: whole rows at 4, 5, 6 or 8 columns
  const DAY_HEADER = 40; // px, as the page's TIMELINE_CSS draws a day's date
  const DAYS_MARGIN = 3; // viewport heights around the viewport whose months' days are asked for
  const LOAD_MARGIN = 2; // viewport heights around the viewport whose segments' photos load
  const DROP_MARGIN = 6; // viewport heights beyond which a segment's photos are dropped
  const SEGMENTS_PER_ASK = 3;
  const MONTHS_PER_ASK = 60;

  const monthDays = {}; // month -> [{day, label, count}], newest first
  const segments = {}; // month -> [{key, days: [{day, label, count, part}]}]
  const tiles = {}; // segment key -> days drawn: [{day, label, cards, key, flex}]
  const measured = {}; // segment key -> height (px) of its photos when they were dropped
  const stale = new Set(); // segments whose photos are shown but asked for anew
  const held = new Set(); // segments asked for anew wherever they are: they were loaded
  const askedMonths = new Set();
  const askedSegments = new Set();
  const listeners = new Set();
  let grid = { cols: 4, row: 100 }; // columns, and the height of a row of tiles with its gap
  let layouts = {}; // month -> [{key, height}] as rendered; rebuilt when stale
  let snapshot = { layouts: {}, tiles: {} };
  let report = null;
  let scanQueued = false;
  const placeholders = new Map(); // thumbhash -> data URL

  const placeholder = (hash) => {
    if (!hash) return "";
    let url = placeholders.get(hash);
    if (url === undefined) {
      try {
        const bytes = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
        url = thumbHashToDataURL(bytes);
      } catch (e) {
        url = "";
      }
      placeholders.set(hash, url);
    }
    return url;
  };

  // A month's days, newest first, in segments: a day starts a new segment when it does not fit
  // in the one before, and a day longer than a segment goes on in the next ones (its parts).
  const cut = (month, days) => {
    const out = [];
    let current = null;
    let offset = 0;
    const close = () => {
      if (current) out.push(current);
      current = null;
    };
    for (const { day, label, count } of days) {
      if (current && current.count + count > SEGMENT_PHOTOS) close();
      let left = count;
      let part = 0;
      while (left > 0) {
        if (!current) current = { offset, count: 0, days: [] };
        const take = Math.min(left, SEGMENT_PHOTOS - current.count);
        current.days.push({ day, label, count: take, part });
        current.count += take;
        offset += take;
        left -= take;
        part += 1;
        if (current.count >= SEGMENT_PHOTOS) close();
      }
    }
    close();
    for (const segment of out) segment.key = `${month}/${segment.offset}/${segment.count}`;
    return out;
  };

  // The height a segment's photos take, laid out as the page's CSS does: a day with fewer photos
  // than a row shares its row with the next such days while they fit.
  const heightOf = (segment) => {
    const { cols, row } = grid;
    let height = 0;
    let line = 0;
    const endLine = () => {
      if (line) height += DAY_HEADER + row;
      line = 0;
    };
    for (const day of segment.days) {
      if (day.part || day.count >= cols) {
        endLine();
        height += (day.part ? 0 : DAY_HEADER) + Math.ceil(day.count / cols) * row;
      } else {
        if (line + day.count > cols) endLine();
        line += day.count;
      }
    }
    endLine();
    return height;
  };

  const flexOf = (count, continued) =>
    continued
      ? "0 0 100%"
      : `0 0 min(100%, calc(${count} * var(--tl-row) - var(--tl-gap) - 0.01px))`;

  // The days of a segment's photos as drawn, from the server's days and the segment's plan.
  const drawn = (segment, days) =>
    days.map((served, i) => {
      const planned = segment.days.find((day) => day.day === served.day);
      const continued = i === 0 && !!planned && planned.part > 0;
      for (const card of served.cards) card.placeholder = placeholder(card.thumbhash);
      return {
        day: served.day,
        label: continued ? "" : served.label,
        cards: served.cards,
        key: served.day,
        flex: flexOf(served.cards.length, continued),
      };
    });

  const monthOfKey = (key) => key.split("/")[0];

  const invalidate = (month) => {
    if (month === undefined) layouts = {};
    else delete layouts[month];
  };

  const publish = () => {
    const shown = {};
    for (const month of Object.keys(segments)) {
      if (!layouts[month]) {
        layouts[month] = segments[month].map((segment) => ({
          key: segment.key,
          height: `${measured[segment.key] ?? heightOf(segment)}px`,
        }));
      }
      shown[month] = layouts[month];
    }
    snapshot = { layouts: shown, tiles: { ...tiles } };
    for (const listener of listeners) listener();
    queueScan();
  };

  // Columns and row height as the page's container queries chose them.
  const measureGrid = () => {
    const section = document.querySelector("[data-timeline-month]");
    if (!section) return false;
    const style = getComputedStyle(section);
    const cols = parseInt(style.getPropertyValue("--tl-cols"), 10) || 4;
    const gap = parseFloat(style.getPropertyValue("--tl-gap")) || 4;
    const width = section.clientWidth;
    if (!width) return false;
    const row = (width - (cols - 1) * gap) / cols + gap;
    if (cols === grid.cols && Math.abs(row - grid.row) < 0.5) return false;
    grid = { cols, row };
    invalidate();
    return true;
  };

  // After a jump, the month stays at the top while months around it load and change size
  // (their placeholders, replaced, cannot anchor the scroll position), until the person scrolls.
  let pinned = null;
  const unpin = () => {
    pinned = null;
  };
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    window.addEventListener(type, unpin, { passive: true, capture: true });
  }
  const keepPinned = () => {
    if (!pinned) return;
    if (performance.now() > pinned.until) {
      pinned = null;
      return;
    }
    const section = document.querySelector(`[data-timeline-month="${pinned.month}"]`);
    if (section && Math.abs(section.getBoundingClientRect().top) > 1) {
      section.scrollIntoView({ block: "start" });
    }
  };

  const distance = (box, viewport) =>
    box.bottom < 0 ? -box.bottom : box.top > viewport ? box.top - viewport : 0;

  const scan = () => {
    scanQueued = false;
    keepPinned();
    if (!report) return;
    if (measureGrid()) {
      publish();
      return;
    }
    const viewport = window.innerHeight;
    const months = [];
    for (const section of document.querySelectorAll("[data-timeline-month]")) {
      const month = section.getAttribute("data-timeline-month");
      if (month in segments || askedMonths.has(month)) continue;
      const box = section.getBoundingClientRect();
      if (box.bottom > -DAYS_MARGIN * viewport && box.top < (1 + DAYS_MARGIN) * viewport) {
        months.push([distance(box, viewport), month]);
      }
    }
    const need = [];
    let dropped = false;
    for (const element of document.querySelectorAll("[data-timeline-segment]")) {
      const key = element.getAttribute("data-timeline-segment");
      const box = element.getBoundingClientRect();
      const near = box.bottom > -LOAD_MARGIN * viewport && box.top < (1 + LOAD_MARGIN) * viewport;
      const far = box.bottom < -DROP_MARGIN * viewport || box.top > (1 + DROP_MARGIN) * viewport;
      if ((near || held.has(key)) && (!(key in tiles) || stale.has(key))
          && !askedSegments.has(key)) {
        need.push([distance(box, viewport), key]);
      }
      if (far && key in tiles) {
        measured[key] = box.height;
        delete tiles[key];
        stale.delete(key);
        held.delete(key);
        invalidate(monthOfKey(key));
        dropped = true;
      }
    }
    // Nearest first: what is on screen is not kept waiting behind what is around it; the next
    // scan (after they arrive) asks for more.
    if (months.length) {
      months.sort((a, b) => a[0] - b[0]);
      const asked = months.slice(0, 6).map(([, month]) => month);
      for (const month of asked) askedMonths.add(month);
      report({ kind: "days", months: asked });
    }
    if (need.length) {
      need.sort((a, b) => a[0] - b[0]);
      const asked = need.slice(0, SEGMENTS_PER_ASK).map(([, key]) => key);
      for (const key of asked) askedSegments.add(key);
      report({ kind: "photos", segments: asked });
    }
    if (dropped) publish();
  };

  const queueScan = () => {
    if (scanQueued) return;
    scanQueued = true;
    requestAnimationFrame(scan);
  };

  window.addEventListener("scroll", queueScan, { passive: true });
  window.addEventListener("resize", queueScan);
  // What is above the timeline (the upload list) grows and shrinks without a scroll.
  setInterval(() => {
    if (report && !document.hidden) queueScan();
  }, 1000);

  const noop = () => {};
  window.imgstreamTimeline = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot() {
      return snapshot;
    },
    // The page's timeline state takes what this script asks for.
    connect(reporter) {
      report = reporter;
      // Months appear as the page renders them (after uploads, a new page): look again then.
      if (!this.watching) {
        this.watching = new MutationObserver(queueScan);
        this.watching.observe(document.body, { childList: true, subtree: true });
      }
      queueScan();
    },
    // A new page state: nothing it knows of is loaded here.
    reset() {
      for (const map of [monthDays, segments, tiles, measured]) {
        for (const key of Object.keys(map)) delete map[key];
      }
      stale.clear();
      held.clear();
      askedMonths.clear();
      askedSegments.clear();
      invalidate();
      publish();
    },
    // Photos changed (uploads, trash, edits): ask anew for the days of the months held and for
    // the photos of the segments held; until they arrive, those show as they were.
    refresh() {
      for (const key of Object.keys(tiles)) {
        stale.add(key);
        held.add(key);
      }
      askedSegments.clear();
      const months = Object.keys(segments);
      for (let i = 0; i < months.length; i += MONTHS_PER_ASK) {
        const asked = months.slice(i, i + MONTHS_PER_ASK);
        for (const month of asked) askedMonths.add(month);
        if (report) report({ kind: "days", months: asked });
      }
      queueScan();
    },
    // months: [{month, days: [{day, label, count}]}]
    putDays(months) {
      for (const { month, days } of months) {
        askedMonths.delete(month);
        monthDays[month] = days;
        const before = segments[month] || [];
        segments[month] = cut(month, days);
        const keys = new Set(segments[month].map((segment) => segment.key));
        // A segment cut anew where a loaded one began shows that one's photos until its own
        // arrive, and is asked for wherever it is, as that one would have been.
        for (const segment of segments[month]) {
          const old = before.find((s) => s.offset === segment.offset);
          if (!old || old.key === segment.key || !(old.key in tiles)) continue;
          tiles[segment.key] = tiles[old.key];
          stale.add(segment.key);
          held.add(segment.key);
        }
        for (const key of Object.keys(tiles)) {
          if (monthOfKey(key) === month && !keys.has(key)) {
            delete tiles[key];
            stale.delete(key);
            held.delete(key);
          }
        }
        for (const key of Object.keys(measured)) {
          if (monthOfKey(key) === month && !keys.has(key)) delete measured[key];
        }
        invalidate(month);
      }
      publish();
    },
    // segments: [{key, days: [{day, label, cards: [{..., thumbhash}]}]}]
    putPhotos(served) {
      for (const { key, days } of served) {
        askedSegments.delete(key);
        const month = monthOfKey(key);
        const segment = (segments[month] || []).find((s) => s.key === key);
        if (!segment) continue; // cut anew meanwhile: its new segments are asked for
        stale.delete(key);
        held.delete(key);
        tiles[key] = drawn(segment, days);
        delete measured[key];
        invalidate(month);
      }
      publish();
    },
    // The days of the newest months and their first photos, sent with the months on opening
    // so the top of the timeline draws without asking: each month's first photos fill its
    // first segment, if they hold all of it.
    putOpening(months, served) {
      this.putDays(months);
      const fitted = [];
      for (const { key, days } of served) {
        const segment = (segments[monthOfKey(key)] || [])[0];
        if (!segment || (segment.key in tiles && !stale.has(segment.key))) continue;
        let left = segment.count;
        const first = [];
        for (const day of days) {
          if (left <= 0) break;
          const cards = day.cards.slice(0, left);
          left -= cards.length;
          first.push({ ...day, cards });
        }
        if (left === 0) fitted.push({ key: segment.key, days: first });
      }
      if (fitted.length) this.putPhotos(fitted);
    },
    // One photo changed (a favourite): its card, wherever it is loaded.
    patch(id, changes) {
      for (const key of Object.keys(tiles)) {
        const days = tiles[key];
        if (!days.some((day) => day.cards.some((card) => card.id === id))) continue;
        tiles[key] = days.map((day) => ({
          ...day,
          cards: day.cards.map((card) => (card.id === id ? { ...card, ...changes } : card)),
        }));
      }
      publish();
    },
    jump(month) {
      const section = document.querySelector(`[data-timeline-month="${month}"]`);
      if (section) section.scrollIntoView({ block: "start" });
      pinned = { month, until: performance.now() + 3000 };
      queueScan();
    },
    scan: queueScan,
    noop,
  };
})();
