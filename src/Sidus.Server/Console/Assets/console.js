// The Sidus web console's only script: keeps the nodes table and a node's page live from the server's boot events
// (server-sent events at /console/events). Every value is put in as text, never as markup.
'use strict';
(function () {
  const live = document.getElementById('live');
  if (!live || !window.EventSource) {
    return;
  }

  const table = document.getElementById('nodes');
  const pageNode = live.dataset.node;
  const filter = live.dataset.stateFilter || '';
  const shown = document.getElementById('shown');
  const source = new EventSource('/console/events');

  source.addEventListener('open', function () {
    live.textContent = 'Live: stages appear here as nodes report them.';
    live.dataset.connected = 'true';
  });
  source.addEventListener('error', function () {
    live.textContent = 'Live updates interrupted; reconnecting…';
    live.dataset.connected = 'false';
  });
  source.addEventListener('boot', function (message) {
    let e;
    try {
      e = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    if (typeof e.node !== 'string' || !/^[a-z]+$/.test(e.stage)) {
      return;
    }
    if (table) {
      updateTable(e);
    }
    if (pageNode !== undefined && e.node === pageNode) {
      updateNodePage(e);
    }
  });

  function updateTable(e) {
    for (const row of table.tBodies[0].rows) {
      if (row.dataset.node === e.node) {
        updateRow(row, e);
      }
    }
    if (shown) {
      let count = 0;
      for (const row of table.tBodies[0].rows) {
        if (!row.hidden) {
          count++;
        }
      }
      shown.textContent = String(count);
    }
  }

  function updateRow(row, e) {
    // A DHCP stage begins a new boot: its timings start over.
    const list = row.querySelector('.timings ol');
    if (e.stage === 'dhcp' || !Number(row.dataset.start)) {
      row.dataset.start = String(e.atMs);
      list.replaceChildren();
    }

    const badge = row.querySelector('.stage .badge');
    badge.textContent = e.stage;
    badge.className = 'badge stage-' + e.stage;
    row.querySelector('.at').replaceChildren(time(e.atMs));

    const item = document.createElement('li');
    item.append(span('stage-name', e.stage), ' ' + since(e.atMs, row.dataset.start));
    list.append(item);

    row.querySelector('.detail').textContent = e.detail || '';
    row.hidden = filter !== '' && filter !== e.stage;
    flash(row);
  }

  function updateNodePage(e) {
    const timeline = document.getElementById('timeline');
    if (timeline) {
      if (e.stage === 'dhcp' || !Number(timeline.dataset.start)) {
        timeline.dataset.start = String(e.atMs);
        timeline.replaceChildren();
      }
      const item = document.createElement('li');
      item.append(span('badge stage-' + e.stage, e.stage), ' ' + since(e.atMs, timeline.dataset.start) + ' ',
        span('at', ''), ' ', span('detail', e.detail || ''));
      item.querySelector('.at').append(time(e.atMs));
      timeline.append(item);
    }

    const events = document.getElementById('recent-events');
    if (events) {
      const row = events.tBodies[0].insertRow(0);
      row.insertCell().append(time(e.atMs));
      row.insertCell().textContent = e.mac;
      row.insertCell().textContent = e.stage;
      const detail = row.insertCell();
      detail.className = 'detail';
      detail.textContent = e.detail || '';
      const none = document.getElementById('no-events');
      if (none) {
        none.remove();
      }
      flash(row);
    }
  }

  function span(className, text) {
    const s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  }

  function time(ms) {
    const at = new Date(ms);
    const t = document.createElement('time');
    t.dateTime = at.toISOString();
    t.textContent = at.toISOString().slice(0, 19).replace('T', ' ') + 'Z';
    return t;
  }

  function since(ms, start) {
    return '+' + (Math.max(0, ms - Number(start)) / 1000).toFixed(1) + ' s';
  }

  function flash(element) {
    element.classList.remove('changed');
    void element.offsetWidth;
    element.classList.add('changed');
  }
})();
