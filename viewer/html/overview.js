// SPDX-License-Identifier: MIT
// socktrace HTML report: the overview above the lanes (report.js calls it).
// It draws the bins, counts, percentiles, outliers and grouped findings
// that sink_html.c wrote for every connection shown, and narrows the lanes
// to what is clicked or brushed; nothing here counts connections again.
function stOverview(api) {
	'use strict';

	var $ = function (id) { return document.getElementById(id); };
	var ov = api.overview, meta = api.meta, el = api.el;
	var WORDS = { connect: 'connect', accept_queue_wait: 'accept-queue wait',
		ttfb: 'time to first byte', lifetime: 'lifetime' };
	var metric = 'connect';

	if (!ov)
		return;

	// --- what a lane is, as the overview counts it ----------------------

	// row of latency V: 0 under 2 us, K from 2^K to 2^(K+1) us (overview.c)
	function rowOf(v) {
		var k = 1;
		if (v < 2000)
			return 0;
		while (k < ov.rows - 1 && v >= 1000 * Math.pow(2, k + 1))
			k++;
		return k;
	}

	function rowWords(r) {
		if (r === 0)
			return 'under 2.0 us';
		return api.fmtDur(1000 * Math.pow(2, r)) + ' to ' +
			api.fmtDur(1000 * Math.pow(2, r + 1));
	}

	// the values of metric M of lane L's ends, each with its end
	function values(L, m) {
		var out = [];
		L.ends.forEach(function (e) {
			var c = e.c, v = null;
			if (m === 'connect')
				v = c.connect_ns;
			else if (m === 'accept_queue_wait')
				v = c.accept_wait_ns;
			else if (m === 'ttfb')
				v = c.ttfb_ns;
			else if ((c.role === 'client' || c.role === 'server') &&
				 c.close_ts !== null && c.close_ts >= c.open_ts)
				v = c.close_ts - c.open_ts;
			if (v !== null && v !== undefined)
				out.push({ v: v, e: e });
		});
		return out;
	}

	function colOf(e) {
		return Math.floor(Math.max(e.c.open_ts - meta.t0, 0) / ov.bin);
	}

	function lastState(e) {
		var st = e.c.states;
		for (var i = st.length - 1; i >= 0; i--)
			if (st[i][0] !== 'CLOSED' && st[i][0] !== 'NONE')
				return st[i][0];
		return 'NONE';
	}

	function closer(L) {
		var c = L.ends[0].c;
		if (c.closed_by === 'both')
			return 'both';
		if (!c.closed_by)
			return 'unknown';
		var mine = c.closed_by === 'local';
		if (c.role === 'server')
			mine = !mine;
		return mine ? 'client' : 'server';
	}

	function conn(L) { return !L.listener; }

	function overlaps(a, b) {
		return function (L) {
			return conn(L) && L.open <= b && (L.close === null ||
				L.close >= a);
		};
	}

	// --- narrowing the lanes ---------------------------------------------

	function pick(test, what, a, b) {
		var n = api.pick(test, what, a, b);
		$('ov-pick').hidden = !test;
		$('ov-pick-what').textContent = test ? 'Lanes narrowed to ' + what +
			': ' + n + ' shown' + (meta.over ? ' (only those with a ' +
			'timeline, within the size budget)' : '') + '.' : '';
	}

	function brush(a, b, what) {
		document.body.setAttribute('data-brush', a + ' ' + b);
		pick(overlaps(a, b), what || 'connections open from ' +
			api.fmtT(a) + ' to ' + api.fmtT(b), a, b);
	}

	// x (px in a chart W wide) -> time (ns since the first call)
	function timeAt(x, W) {
		return Math.max(0, Math.min(x / W, 1)) * ov.cols * ov.bin;
	}

	// click or drag across NODE: CLICK(x, y, W, H) or a brushed range
	function brushable(node, click) {
		var fig = node.parentNode, band = el('div', 'brush');
		fig.style.position = 'relative';
		band.style.position = 'absolute';
		band.hidden = true;
		fig.appendChild(band);
		var x0 = null;
		var at = function (ev) {
			var r = node.getBoundingClientRect();
			return { x: ev.clientX - r.left, y: ev.clientY - r.top,
				W: r.width, H: r.height, r: r };
		};
		node.addEventListener('mousedown', function (ev) {
			if (ev.button !== 0)
				return;
			ev.preventDefault();
			x0 = at(ev).x;
		});
		window.addEventListener('mousemove', function (ev) {
			if (x0 === null)
				return;
			var p = at(ev), a = Math.min(x0, p.x), b = Math.max(x0, p.x);
			band.hidden = b - a < 4;
			band.style.left = node.offsetLeft + a + 'px';
			band.style.width = b - a + 'px';
			band.style.top = node.offsetTop + 'px';
			band.style.height = p.H + 'px';
		});
		window.addEventListener('mouseup', function (ev) {
			if (x0 === null)
				return;
			var p = at(ev), a = Math.min(x0, p.x), b = Math.max(x0, p.x);
			x0 = null;
			band.hidden = true;
			if (b - a >= 4)
				brush(timeAt(a, p.W), timeAt(b, p.W));
			else
				click(p.x, p.y, p.W, p.H);
		});
	}

	// --- connections over time -------------------------------------------

	function svg(tag, attrs, text) {
		// the namespace of an svg element of the page: no URL in it
		var n = document.createElementNS($('ov-conns').namespaceURI, tag);
		for (var k in attrs)
			n.setAttribute(k, attrs[k]);
		if (text !== undefined) {
			var t = document.createElementNS(n.namespaceURI, 'title');
			t.textContent = text;
			n.appendChild(t);
		}
		return n;
	}

	function drawConns() {
		var s = $('ov-conns'), r = s.getBoundingClientRect();
		var W = r.width, H = r.height - 12, n = ov.cols;
		var open = [], now = 0, most = 1, mostOpen = 1;
		for (var i = 0; i < n; i++) {
			now += ov.opened[i] - ov.closed[i];
			open.push(now);
			most = Math.max(most, ov.opened[i], ov.closed[i]);
			mostOpen = Math.max(mostOpen, now);
		}
		s.setAttribute('viewBox', '0 0 ' + W + ' ' + r.height);
		s.setAttribute('data-bin', ov.bin);
		s.textContent = '';
		var w = W / Math.max(n, 1), pts = [];
		for (i = 0; i < n; i++) {
			var ho = ov.opened[i] / most * H, hc = ov.closed[i] / most * H;
			s.appendChild(svg('rect', { class: 'o', x: i * w, y: H - ho,
				width: Math.max(w / 2, 0.5), height: ho }));
			s.appendChild(svg('rect', { class: 'c', x: i * w + w / 2,
				y: H - hc, width: Math.max(w / 2, 0.5), height: hc }));
			pts.push((i * w + w / 2).toFixed(1) + ',' +
				(H - open[i] / mostOpen * H).toFixed(1));
		}
		s.appendChild(svg('polyline', { class: 'n', points: pts.join(' ') }));
		for (i = 0; i < n; i++) {
			var a = i * ov.bin, b = a + ov.bin;
			s.appendChild(svg('rect', { class: 'hit', x: i * w, y: 0,
				width: w, height: H, 'data-col': i,
				'data-opened': ov.opened[i], 'data-closed': ov.closed[i],
				'data-open': open[i] },
			api.fmtT(a) + ' to ' + api.fmtT(b) + ': ' + ov.opened[i] +
				' opened, ' + ov.closed[i] + ' closed, ' + open[i] +
				' open at its end'));
		}
		s.appendChild(svg('text', { x: 2, y: r.height - 1 }, undefined))
			.textContent = api.fmtT(0, 3);
		s.appendChild(svg('text', { x: W - 2, y: r.height - 1,
			'text-anchor': 'end' })).textContent =
			api.fmtT(n * ov.bin, 3);
		$('ov-bin').textContent = api.fmtDur(ov.bin);
		$('ov-conns-max').textContent = '(' + ov.conns + ' connections; ' +
			'most ' + most + ' per interval, ' + mostOpen + ' open at once)';
	}

	// --- latencies -------------------------------------------------------

	function cells(m) { return ov.heat[m] || []; }

	function rowRange(m) {
		var lo = ov.rows, hi = -1;
		cells(m).forEach(function (c) {
			lo = Math.min(lo, c[1]);
			hi = Math.max(hi, c[1]);
		});
		if (hi < 0)
			return null;
		// a few rows either side: where the values are not
		return { lo: Math.max(0, lo - 1), hi: Math.min(ov.rows - 1, hi + 1) };
	}

	function drawHeat() {
		var cv = $('ov-heat'), rr = rowRange(metric);
		var W = cv.clientWidth, H = cv.clientHeight, d = window.devicePixelRatio || 1;
		cv.width = W * d;
		cv.height = H * d;
		var g = cv.getContext('2d');
		g.scale(d, d);
		g.clearRect(0, 0, W, H);
		cv.setAttribute('data-cols', ov.cols);
		if (!rr) {
			cv.setAttribute('data-lo', '');
			g.fillStyle = '#5f6b7a';
			g.fillText('no ' + WORDS[metric] + ' measured', 8, 16);
			return;
		}
		cv.setAttribute('data-lo', rr.lo);
		cv.setAttribute('data-hi', rr.hi);
		var most = 1;
		cells(metric).forEach(function (c) { most = Math.max(most, c[2]); });
		var cw = W / ov.cols, ch = H / (rr.hi - rr.lo + 1);
		cells(metric).forEach(function (c) {
			var t = Math.log(1 + c[2]) / Math.log(1 + most);
			g.fillStyle = 'hsl(265,60%,' + (88 - 60 * t).toFixed(0) + '%)';
			// at least 3 px across: one connection is still seen
			g.fillRect(c[0] * cw, H - (c[1] - rr.lo + 1) * ch,
				Math.max(cw, 3), Math.max(ch, 3));
		});
		g.fillStyle = '#5f6b7a';
		g.font = '10px sans-serif';
		g.fillText(rowWords(rr.hi), 3, 10);
		g.fillText(rowWords(rr.lo), 3, H - 3);
	}

	function heatClick(x, y, W, H) {
		var cv = $('ov-heat'), rr = rowRange(metric);
		if (!rr)
			return;
		var col = Math.floor(x / W * ov.cols);
		var row = rr.lo + Math.floor((H - y) / H * (rr.hi - rr.lo + 1));
		var m = metric, a = col * ov.bin;
		cv.setAttribute('data-picked', col + ' ' + row);
		pick(function (L) {
			return values(L, m).some(function (p) {
				return rowOf(p.v) === row && colOf(p.e) === col;
			});
		}, WORDS[m] + ' ' + rowWords(row) + ' of ends opened from ' +
			api.fmtT(a) + ' to ' + api.fmtT(a + ov.bin));
	}

	function histo(m) {
		var n = [];
		for (var r = 0; r < ov.rows; r++)
			n.push(0);
		cells(m).forEach(function (c) { n[c[1]] += c[2]; });
		return n;
	}

	function drawHist() {
		var s = $('ov-hist'), r = s.getBoundingClientRect(), rr = rowRange(metric);
		var W = r.width, H = r.height - 12;
		s.setAttribute('viewBox', '0 0 ' + W + ' ' + r.height);
		s.textContent = '';
		$('ov-hist-what').textContent = WORDS[metric];
		if (!rr)
			return;
		var n = histo(metric), most = 1, k = rr.hi - rr.lo + 1;
		for (var i = rr.lo; i <= rr.hi; i++)
			most = Math.max(most, n[i]);
		var w = W / k;
		for (i = rr.lo; i <= rr.hi; i++) {
			var h = n[i] / most * H, x = (i - rr.lo) * w;
			s.appendChild(svg('rect', { class: 'b', x: x + 1, y: H - h,
				width: Math.max(w - 2, 1), height: h }));
			s.appendChild(svg('rect', { class: 'hit', x: x, y: 0, width: w,
				height: H, 'data-row': i, 'data-n': n[i], tabindex: 0,
				role: 'button' },
			WORDS[metric] + ' ' + rowWords(i) + ': ' + n[i]));
		}
		s.appendChild(svg('text', { x: 2, y: r.height - 1 })).textContent =
			rowWords(rr.lo);
		s.appendChild(svg('text', { x: W - 2, y: r.height - 1,
			'text-anchor': 'end' })).textContent = rowWords(rr.hi);
		var p = ov['pct_' + metric];
		$('ov-pct').textContent = p ? p.count + ' values: p50 ' +
			api.fmtDur(p.p50) + ', p90 ' + api.fmtDur(p.p90) + ', p99 ' +
			api.fmtDur(p.p99) + ', max ' + api.fmtDur(p.max) : '';
	}

	function histClick(ev) {
		var t = ev.target.closest && ev.target.closest('[data-row]');
		if (!t)
			return;
		var row = +t.getAttribute('data-row'), m = metric;
		pick(function (L) {
			return values(L, m).some(function (p) {
				return rowOf(p.v) === row;
			});
		}, WORDS[m] + ' ' + rowWords(row) + ' (' +
			t.getAttribute('data-n') + ' in the histogram)');
	}

	// --- ends and closes -------------------------------------------------

	function bars(box, counts, words, test) {
		var most = 1, keys = Object.keys(counts).filter(function (k) {
			return counts[k];
		}).sort(function (a, b) { return counts[b] - counts[a]; });
		keys.forEach(function (k) { most = Math.max(most, counts[k]); });
		keys.forEach(function (k) {
			var d = el('div');
			d.setAttribute('data-key', k);
			d.setAttribute('data-n', counts[k]);
			d.appendChild(el('span', 'lb', k));
			var b = el('span', 'bar');
			b.style.width = (counts[k] / most * 60) + '%';
			d.appendChild(b);
			d.appendChild(el('span', null, String(counts[k])));
			d.tabIndex = 0;
			d.setAttribute('role', 'button');
			d.addEventListener('click', function () {
				pick(test(k), words(k));
			});
			box.appendChild(d);
		});
	}

	function fillEnds() {
		bars($('ov-states'), ov.last_state, function (k) {
			return 'ends whose last state was ' + k;
		}, function (k) {
			return function (L) {
				return conn(L) && L.ends.some(function (e) {
					return lastState(e) === k;
				});
			};
		});
		bars($('ov-closer'), ov.closer, function (k) {
			return k === 'unknown' ? 'connections whose first closer ' +
				'is unknown' : k === 'both' ? 'connections both ends ' +
				'closed at once' : 'connections the ' + k + ' closed first';
		}, function (k) {
			return function (L) { return conn(L) && closer(L) === k; };
		});
	}

	// --- findings and outliers (stats' lines) -----------------------------

	function connLink(id) {
		var a = el('a', null, id);
		a.href = '#conn=' + id;
		a.addEventListener('click', function (ev) {
			ev.preventDefault();
			showConn(id);
		});
		return a;
	}

	function showConn(id) {
		pick(function (L) {
			return L.ends.some(function (e) { return e.c.id === id; });
		}, 'connection ' + id + (api.byConn[id] ? '' : ' (no timeline: ' +
			'past the size budget)'));
		if (api.byConn[id])
			api.focus(id);
	}

	function fillFindings() {
		var ol = $('ov-findings'), any = false;
		api.stats.forEach(function (g) {
			if (g.type !== 'finding_group')
				return;
			any = true;
			var li = el('li');
			var k = el('a', 'fk', g.kind);
			k.href = '#';
			k.title = 'narrow the lanes to connections with this finding';
			k.addEventListener('click', function (ev) {
				ev.preventDefault();
				pick(function (L) { return L.finds.indexOf(g.kind) >= 0; },
					'connections with finding ' + g.kind);
			});
			li.appendChild(k);
			li.appendChild(document.createTextNode(' (' + g.scope_name +
				'): ' + g.message + ' '));
			g.examples.forEach(function (id) {
				li.appendChild(connLink(id));
				li.appendChild(document.createTextNode(' '));
			});
			ol.appendChild(li);
		});
		if (!any)
			ol.appendChild(el('li', null, 'none'));
	}

	function fillOutliers() {
		var tb = $('ov-outliers').tBodies[0];
		api.stats.forEach(function (o) {
			if (o.type !== 'outlier')
				return;
			var tr = el('tr');
			tr.setAttribute('data-conn', o.conn);
			tr.appendChild(el('td', null, WORDS[o.metric] || o.metric));
			var td = el('td');
			td.appendChild(connLink(o.conn));
			tr.appendChild(td);
			tr.appendChild(el('td', null, api.fmtDur(o.ns)));
			tr.addEventListener('click', function (ev) {
				if (!ev.target.closest('a'))
					showConn(o.conn);
			});
			tb.appendChild(tr);
		});
	}

	function fillBudget() {
		if (!meta.over)
			return;
		var p = $('ov-budget');
		p.hidden = false;
		p.textContent = 'This report is past its size budget (' +
			Math.round(meta.budget / 1048576) + ' MiB): the overview ' +
			'counts all ' + ov.conns + ' connections, but timelines are ' +
			'kept only for the first ' + meta.kept + ' to close (by ' +
			api.fmtT(meta.until - meta.t0) + ' s). To see others, write ' +
			'the report with --since/--until or other filters.';
	}

	function drawAll() {
		drawConns();
		drawHeat();
		drawHist();
	}

	fillBudget();
	fillEnds();
	fillFindings();
	fillOutliers();
	drawAll();
	brushable($('ov-conns'), function (x, y, W) {
		var col = Math.floor(x / W * ov.cols), a = col * ov.bin;
		brush(a, a + ov.bin);
	});
	brushable($('ov-heat'), heatClick);
	// hover: a cell's range, time and count, as the bars' titles say
	$('ov-heat').addEventListener('mousemove', function (ev) {
		var cv = this, rr = rowRange(metric), r = cv.getBoundingClientRect();
		if (!rr)
			return;
		var col = Math.floor((ev.clientX - r.left) / r.width * ov.cols);
		var row = rr.lo + Math.floor((r.bottom - ev.clientY) / r.height *
			(rr.hi - rr.lo + 1));
		var n = 0;
		cells(metric).forEach(function (c) {
			if (c[0] === col && c[1] === row)
				n = c[2];
		});
		cv.title = WORDS[metric] + ' ' + rowWords(row) + ', ends opened ' +
			api.fmtT(col * ov.bin) + ' to ' + api.fmtT((col + 1) * ov.bin) +
			': ' + n;
	});
	$('ov-hist').addEventListener('click', histClick);
	// the keyboard: Enter or space on a focused bar clicks it
	$('st-overview').addEventListener('keydown', function (ev) {
		var t = ev.target;
		if ((ev.key === 'Enter' || ev.key === ' ') &&
		    t.getAttribute('role') === 'button') {
			ev.preventDefault();
			t.dispatchEvent(new MouseEvent('click', { bubbles: true }));
		}
	});
	$('ov-metric').addEventListener('change', function () {
		metric = this.value;
		drawHeat();
		drawHist();
	});
	$('ov-pick-clear').addEventListener('click', function () {
		document.body.setAttribute('data-brush', '');
		pick(null, '');
	});
	window.addEventListener('resize', drawAll);
}
