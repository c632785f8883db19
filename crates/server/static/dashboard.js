// The supervision dashboard: draws the charts with the vendored ECharts and
// refreshes every number, table and chart from the JSON endpoint each minute.
// The page already carries every number (server-rendered); this only adds
// the charts and the refresh. No inline script or style (strict CSP).
(function () {
  'use strict';

  var root = document.getElementById('dashboard');
  if (!root) { return; }
  var api = root.getAttribute('data-api');
  var pageDate = root.getAttribute('data-date');
  var REFRESH_MS = 60 * 1000;
  var COLORS = {
    received: '#1f5fa8',
    completed: '#2e7d32',
    rate: '#1f5fa8',
    warning: '#e08a00',
    yellow: '#e9c400',
    red: '#c62828'
  };
  var charts = {};

  function path(data, key) {
    return key.split('.').reduce(function (v, k) {
      return v === null || v === undefined ? v : v[k];
    }, data);
  }

  function rateText(rate) {
    return rate === null || rate === undefined ? '—' : rate.toFixed(1) + '%';
  }

  function link(href, text, className) {
    var a = document.createElement('a');
    a.href = href;
    a.textContent = String(text);
    if (className) { a.className = className; }
    return a;
  }

  // A table cell; label (the column's name) is shown beside the value when
  // the table reads as a list on phones.
  function cell(tag, content, label, className) {
    var c = document.createElement(tag);
    if (tag === 'th') { c.scope = 'row'; }
    if (label) { c.setAttribute('data-label', label); }
    if (className) { c.className = className; }
    if (content instanceof Node) { c.appendChild(content); } else { c.textContent = String(content); }
    return c;
  }

  function fill(tbody, rows) {
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (c) { tr.appendChild(c); });
      tbody.appendChild(tr);
    });
  }

  function updateNumbers(data) {
    Array.prototype.forEach.call(root.querySelectorAll('[data-key]'), function (el) {
      var v = path(data, el.getAttribute('data-key'));
      if (v !== undefined && v !== null) { el.textContent = String(v); }
    });
    Array.prototype.forEach.call(root.querySelectorAll('[data-pct]'), function (el) {
      el.textContent = rateText(path(data, el.getAttribute('data-pct')));
    });
    Array.prototype.forEach.call(root.querySelectorAll('[data-rate]'), function (el) {
      el.textContent = '按时率 ' + rateText(path(data, el.getAttribute('data-rate')));
    });
    var rank = root.querySelector('[data-rank]');
    if (rank) {
      fill(rank, data.departments.map(function (d) {
        var m = d.month;
        return [
          cell('td', d.rank, '', 'dash-rank-no'),
          cell('th', link('/supervision?department_id=' + d.department_id, d.department_name)),
          cell('td', link(d.links.received, m.received), '受理'),
          cell('td', link(d.links.completed, m.completed), '办结'),
          cell('td', link(d.links.completed, m.completed_on_time), '按时办结'),
          cell('td', rateText(m.on_time_rate), '按时率'),
          cell('td', link(d.links.overdue, d.overdue, d.overdue > 0 ? 'remaining remaining-overdue' : ''), '逾期未办结'),
          cell('td', link(d.links.warnings, m.warnings), '预警'),
          cell('td', link(d.links.yellow, m.yellow), '黄牌'),
          cell('td', link(d.links.red, m.red), '红牌'),
          cell('td', rateText(m.satisfaction_rate), '满意度')
        ];
      }));
    }
    var months = root.querySelector('[data-months]');
    if (months) {
      fill(months, data.months.map(function (m) {
        var f = m.figures;
        return [cell('th', m.label), cell('td', f.received), cell('td', f.completed),
          cell('td', rateText(f.on_time_rate)), cell('td', f.warnings), cell('td', f.yellow),
          cell('td', f.red)];
      }));
    }
  }

  function narrow(el) { return el.clientWidth < 520; }

  function base(el) {
    var small = narrow(el);
    return {
      animation: false,
      textStyle: { fontSize: small ? 11 : 12 },
      tooltip: { trigger: 'axis', confine: true },
      legend: { top: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: small ? 11 : 12 } },
      // Room on the right for the last axis label, which is centred on its tick.
      grid: { left: 8, right: small ? 18 : 22, top: 34, bottom: 8, containLabel: true }
    };
  }

  // A value axis whose labels never run into each other ("80100").
  function valueAxis(el, extra) {
    return merge({
      type: 'value',
      splitNumber: narrow(el) ? 4 : 5,
      axisLabel: { hideOverlap: true, fontSize: narrow(el) ? 10 : 12 }
    }, extra || {});
  }

  function monthAxis(data, el) {
    return {
      type: 'category',
      data: data.months.map(function (m) { return m.label; }),
      axisLabel: { fontSize: narrow(el) ? 10 : 12, hideOverlap: true, interval: 'auto' },
      axisTick: { alignWithLabel: true }
    };
  }

  function merge(a, b) {
    Object.keys(b).forEach(function (k) { a[k] = b[k]; });
    return a;
  }

  var builders = {
    volume: function (data, el) {
      return merge(base(el), {
        xAxis: monthAxis(data, el),
        yAxis: valueAxis(el, { minInterval: 1 }),
        series: [
          { name: '受理', type: 'bar', color: COLORS.received,
            data: data.months.map(function (m) { return m.figures.received; }) },
          { name: '办结', type: 'bar', color: COLORS.completed,
            data: data.months.map(function (m) { return m.figures.completed; }) }
        ]
      });
    },
    rate: function (data, el) {
      var values = data.months.map(function (m) {
        return m.figures.on_time_rate === null ? '-' : m.figures.on_time_rate;
      });
      // Only the latest month carries its figure; the others show theirs on
      // hover (and in the tooltip), so that neighbouring labels never overlap.
      var latest = -1;
      var lowest = 100;
      values.forEach(function (v, i) {
        if (v !== '-') { latest = i; lowest = Math.min(lowest, v); }
      });
      // Rates sit near the top: the axis starts a little below the lowest one,
      // in round steps (85%, 90%, 95%, 100%).
      var low = Math.max(0, Math.floor(lowest / 5) * 5 - 5);
      var step = 100 - low <= 25 ? 5 : (100 - low <= 50 ? 10 : 20);
      low = Math.floor(low / step) * step;
      return merge(base(el), {
        tooltip: { trigger: 'axis', confine: true, valueFormatter: function (v) {
          return v === null || v === undefined || v === '-' ? '无办结' : v + '%';
        } },
        xAxis: monthAxis(data, el),
        yAxis: valueAxis(el, { max: 100, min: low, interval: step,
          axisLabel: { formatter: '{value}%', hideOverlap: true, fontSize: narrow(el) ? 10 : 12 } }),
        series: [
          { name: '按时办结率', type: 'line', color: COLORS.rate, connectNulls: false,
            symbolSize: 6,
            label: { show: false, position: 'top', formatter: '{c}%', fontSize: 11 },
            emphasis: { label: { show: true } },
            data: values.map(function (v, i) {
              return i === latest ? { value: v, label: { show: true, fontWeight: 'bold' } } : v;
            }) }
        ]
      });
    },
    cards: function (data, el) {
      function series(name, key, color) {
        return { name: name, type: 'bar', stack: 'cards', color: color,
          data: data.months.map(function (m) { return m.figures[key]; }) };
      }
      return merge(base(el), {
        xAxis: monthAxis(data, el),
        yAxis: valueAxis(el, { minInterval: 1 }),
        series: [series('预警', 'warnings', COLORS.warning), series('黄牌', 'yellow', COLORS.yellow),
          series('红牌', 'red', COLORS.red)]
      });
    },
    departments: function (data, el) {
      var rows = data.departments.filter(function (d) {
        return d.year.warnings + d.year.yellow + d.year.red > 0;
      }).sort(function (a, b) {
        var ta = a.year.warnings + a.year.yellow + a.year.red;
        var tb = b.year.warnings + b.year.yellow + b.year.red;
        return ta - tb;
      });
      var small = narrow(el);
      // One bar per department. On a phone each name stands above its bar,
      // so that the bars keep the whole width; wider, the names are beside.
      el.style.height = Math.max(220, rows.length * (small ? 40 : 28) + 60) + 'px';
      function series(name, key, color) {
        return { name: name, type: 'bar', stack: 'cards', color: color, barMaxWidth: small ? 12 : 18,
          data: rows.map(function (d) { return d.year[key]; }) };
      }
      var nameLabel = small
        ? { inside: true, verticalAlign: 'bottom', align: 'left', padding: [0, 0, 8, 4], fontSize: 11,
          color: '#333a45', width: el.clientWidth - 40, overflow: 'truncate' }
        : { width: 180, overflow: 'truncate', fontSize: 12 };
      var option = merge(base(el), {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
        xAxis: valueAxis(el, { minInterval: 1, position: 'top' }),
        yAxis: { type: 'category', data: rows.map(function (d) { return d.department_name; }),
          axisTick: { show: !small }, axisLabel: nameLabel, z: 10 },
        series: [series('预警', 'warnings', COLORS.warning), series('黄牌', 'yellow', COLORS.yellow),
          series('红牌', 'red', COLORS.red)]
      });
      option.grid.top = 40;
      if (rows.length === 0) {
        option.title = { text: '近12个月没有预警和黄红牌', left: 'center', top: 'middle',
          textStyle: { fontSize: 13, fontWeight: 'normal', color: '#666' } };
      }
      return option;
    }
  };

  function draw(data) {
    if (!window.echarts) { return; }
    Array.prototype.forEach.call(root.querySelectorAll('[data-chart]'), function (el) {
      var kind = el.getAttribute('data-chart');
      var build = builders[kind];
      if (!build) { return; }
      var option = build(data, el);
      var chart = charts[kind];
      if (!chart) {
        chart = window.echarts.init(el, null, { renderer: 'canvas' });
        charts[kind] = chart;
        // Follow the box's width (a scroll bar appearing, a rotated phone).
        if (window.ResizeObserver) {
          new window.ResizeObserver(function () { chart.resize(); }).observe(el);
        }
      } else {
        chart.resize();
      }
      chart.setOption(option, true);
    });
  }

  var status = root.querySelector('.dash-auto');
  var last = null;

  function refresh() {
    fetch(api, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data.date !== pageDate && api.indexOf('date=') < 0) {
          // A new day: the page's links and periods change with it.
          window.location.reload();
          return;
        }
        last = data;
        updateNumbers(data);
        draw(data);
        var updated = root.querySelector('[data-updated]');
        if (updated) { updated.textContent = data.generated_time; }
        if (status) { status.textContent = '（每分钟自动刷新）'; }
      })
      .catch(function () {
        if (status) { status.textContent = '（刷新失败，1分钟后重试）'; }
      });
  }

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (last) { draw(last); }
    }, 200);
  });

  refresh();
  setInterval(refresh, REFRESH_MS);
}());
