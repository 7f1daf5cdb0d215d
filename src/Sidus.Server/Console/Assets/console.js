// The Sidus web console's only script: keeps the nodes table live from the server's boot events
// (server-sent events at /console/events). Every value is put in as text, never as markup.
'use strict';
(function () {
  const table = document.getElementById('nodes');
  const live = document.getElementById('live');
  if (!table || !live || !window.EventSource) {
    return;
  }

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
    for (const row of table.tBodies[0].rows) {
      if (row.dataset.node === e.node) {
        update(row, e);
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
  });

  function update(row, e) {
    // A DHCP stage begins a new boot: its timings start over.
    const list = row.querySelector('.timings ol');
    if (e.stage === 'dhcp' || !Number(row.dataset.start)) {
      row.dataset.start = String(e.atMs);
      list.replaceChildren();
    }

    const badge = row.querySelector('.stage .badge');
    badge.textContent = e.stage;
    badge.className = 'badge stage-' + e.stage;

    const at = new Date(e.atMs);
    const time = document.createElement('time');
    time.dateTime = at.toISOString();
    time.textContent = at.toISOString().slice(0, 19).replace('T', ' ') + 'Z';
    row.querySelector('.at').replaceChildren(time);

    const item = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'stage-name';
    name.textContent = e.stage;
    const seconds = Math.max(0, e.atMs - Number(row.dataset.start)) / 1000;
    item.append(name, ' +' + seconds.toFixed(1) + ' s');
    list.append(item);

    row.querySelector('.detail').textContent = e.detail || '';
    row.hidden = filter !== '' && filter !== e.stage;
    row.classList.remove('changed');
    void row.offsetWidth;
    row.classList.add('changed');
  }
})();
