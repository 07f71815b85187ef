// SPDX-License-Identifier: MIT
// socktrace HTML report: one lane per connection, virtualised, zoomable.
(function () {
'use strict';

var started = performance.now();
var ROW = 30;           // px per connection end
var PAD = 4;            // px under each lane
var MIN_SPAN = 200;     // ns: the closest zoom
var TIME_WAIT_NS = 60e9;
var MAX_FINDINGS = 1000;  // listed one by one in the side panel
var EXPLAIN = {
	SYN_SENT: 'connect() sent SYN; it returns when the SYN+ACK arrives ' +
		'(the second segment of the handshake).',
	SYN_RECV: 'A server end from its client\'s SYN to the final ACK of ' +
		'the handshake (the client\'s connect, one-way delay later).',
	ESTABLISHED: 'The handshake is done: data can flow.  A server end is ' +
		'ESTABLISHED when its client\'s final ACK arrives, before ' +
		'accept returns it.',
	LISTEN: 'Listening: the kernel completes handshakes into the accept ' +
		'queue (at most min(backlog, somaxconn)) until accept takes them.',
	CLOSE_WAIT: 'The peer sent FIN (a read returned 0, EOF); the socket ' +
		'waits for this program to close() it.  A lasting CLOSE_WAIT ' +
		'means the program forgot to close.',
	FIN_WAIT: 'This end closed (or shut down writing) first and sent FIN ' +
		'(FIN_WAIT_1, FIN_WAIT_2): it waits for the peer\'s FIN.',
	TIME_WAIT: 'Only the active closer gets TIME_WAIT: it holds the 4-tuple ' +
		'for 2*MSL (60 s on Linux) after both FINs.',
	LAST_ACK: 'Closed after the peer\'s FIN: waits for the ACK of its own ' +
		'FIN, then CLOSED.'
};
// what showed a state: conn.states' third element (README: source)
var SOURCE = {
	call: 'the call\'s own result',
	kernel: 'the kernel (TCP_INFO, the state recorded at close)',
	peer: 'the traced other end\'s calls',
	inferred: 'a guess: a rule of TCP, the peer not traced'
};
var KINDS = ['setup', 'connect', 'accept', 'in', 'out', 'close', 'other'];
var STATES = ['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'LISTEN', 'CLOSE_WAIT', 'FIN_WAIT',
	'TIME_WAIT', 'LAST_ACK'];

var $ = function (id) { return document.getElementById(id); };
var scroller = $('st-scroll'), lanesEl = $('st-lanes'), axisEl = $('st-axis');
var tip = $('st-tip'), details = $('st-details');

var meta = null, procs = [], lanes = [], findings = [], byConn = {};
var overview = null, stats = [];   // the overview's bins, stats' lines
var pick = null;  // the overview's choice: {test: lane -> bool, what}
var order = [];   // lane indexes: listeners followed by what they accepted
var shown = [];   // order, filtered
var tops = [];    // px from the top, per shown lane
var total = 0;
var v0 = 0, v1 = 1;   // the time window shown, ns since the first call
var built = {};       // shown index -> lane element
var selected = -1;    // lane index
var pinned = false;
var dirty = 0;        // 1: scroll, 2: everything

function fail(msg) {
	var e = $('st-error');
	e.hidden = false;
	e.textContent = 'The report could not be drawn: ' + msg;
	document.body.setAttribute('data-error', msg);
}
window.addEventListener('error', function (ev) { fail(ev.message); });

function el(tag, cls, text) {
	var e = document.createElement(tag);
	if (cls)
		e.className = cls;
	if (text !== undefined)
		e.textContent = text;
	return e;
}

// "+0.001504": seconds since the first call, as the text view prints
function fmtT(ns, digits) {
	var d = digits === undefined ? 6 : digits;
	var s = Math.abs(ns) / 1e9;
	return (ns < 0 ? '-' : '+') + s.toFixed(d);
}

// "12.3 us": as st_fmt_dur
function fmtDur(ns) {
	if (ns < 1e4)
		return Math.round(ns) + ' ns';
	if (ns < 1e7)
		return (ns / 1e3).toFixed(1) + ' us';
	if (ns < 1e10)
		return (ns / 1e6).toFixed(1) + ' ms';
	return (ns / 1e9).toFixed(1) + ' s';
}

function portOf(a) {
	var m = a && /:(\d+)$/.exec(a);
	return m ? +m[1] : -1;
}

// --- the data --------------------------------------------------------

function makeEnd(d) {
	var c = d.conn, t0 = meta.t0;
	var stop = c.close_ts !== null ? c.close_ts - t0 : meta.now - t0;
	var e = {
		c: c, proc: d.proc, summary: d.summary, note: d.note,
		dropped: d.dropped, ev: d.ev, bands: [], aq: null,
		start: c.open_ts - t0, stop: stop, fitEnd: stop
	};
	var st = c.states;
	for (var i = 0; i < st.length; i++) {
		var s = st[i][0], from = st[i][1] - t0, src = st[i][2] || 'call';
		var to = i + 1 < st.length ? st[i + 1][1] - t0 :
			s === 'TIME_WAIT' ? from + TIME_WAIT_NS : Math.max(stop, from);
		if (from < e.start)
			e.start = from;
		if (s === 'NONE' || s === 'CLOSED')
			continue;
		e.bands.push({ s: s, from: from, to: to, src: src });
	}
	// the client's final ACK made it ESTABLISHED (after SYN_RECV); from
	// then the connection sat in the listener's accept queue until
	// accept returned it
	var k = st.length > 1 && st[0][0] === 'SYN_RECV' ? 1 : 0;
	if (c.role === 'server' && c.accept_wait_ns && st.length)
		e.aq = { from: st[k][1] - t0, to: st[k][1] - t0 + c.accept_wait_ns };
	for (i = 0; i < e.ev.length; i++)
		if (e.ev[i][2] > e.fitEnd)
			e.fitEnd = e.ev[i][2];
	return e;
}

function makeLane(d) {
	var L = { ends: d.ends.map(makeEnd), finds: [], child: false };
	var words = [];
	L.start = Infinity;
	L.fitEnd = -Infinity;
	L.pids = {};
	L.ports = {};
	L.states = {};
	L.ends.forEach(function (e) {
		var c = e.c;
		L.start = Math.min(L.start, e.start);
		L.fitEnd = Math.max(L.fitEnd, e.fitEnd);
		L.pids[c.pid] = true;
		L.ports[portOf(c.local)] = L.ports[portOf(c.peer)] = true;
		e.bands.forEach(function (b) { L.states[b.s] = true; });
		words.push(c.id, c.kind, c.role, c.local || '', c.peer || '', e.proc,
			c.connect_errno || '');
		e.ev.forEach(function (v) {
			words.push(v[3]);
			L.pids[v[11]] = true; /* a child serving it */
		});
	});
	L.text = words.join(' ').toLowerCase();
	// open from its first end's opening to its last end's close (null:
	// an end is still open), as the overview counts connections
	L.open = Infinity;
	L.close = -Infinity;
	L.ends.forEach(function (e) {
		L.open = Math.min(L.open, e.c.open_ts - meta.t0);
		if (e.c.close_ts === null || L.close === null)
			L.close = null;
		else
			L.close = Math.max(L.close, e.c.close_ts - meta.t0);
	});
	L.listener = L.ends[0].c.role === 'listener';
	L.height = L.ends.length * ROW + PAD;
	return L;
}

function load() {
	var items = JSON.parse($('st-data').textContent);
	meta = items[items.length - 1];
	items.forEach(function (it) {
		if (it.type === 'process')
			procs.push(it);
		else if (it.type === 'lane')
			lanes.push(makeLane(it));
		else if (it.type === 'finding')
			findings.push(it);
		else if (it.type === 'overview')
			overview = it;
	});
	var st = $('st-stats');
	(st ? st.textContent : '').split('\n').forEach(function (line) {
		if (line.trim())
			stats.push(JSON.parse(line));
	});
	lanes.forEach(function (L, i) {
		L.ends.forEach(function (e, k) { byConn[e.c.id] = { lane: i, end: k }; });
	});
	findings.forEach(function (f) {
		var w = f.conn && byConn[f.conn];
		if (w)
			lanes[w.lane].finds.push(f.kind);
	});
	// listeners, each followed by the connections it accepted
	var kids = {};
	var top = [];
	lanes.forEach(function (L, i) {
		var lid = null;
		L.ends.forEach(function (e) {
			if (e.c.role === 'server' && e.c.listener)
				lid = e.c.listener;
		});
		var w = lid && byConn[lid];
		if (w && lanes[w.lane].listener) {
			L.child = true;
			(kids[w.lane] = kids[w.lane] || []).push(i);
		} else {
			top.push(i);
		}
	});
	var byStart = function (a, b) { return lanes[a].start - lanes[b].start; };
	top.sort(byStart);
	top.forEach(function (i) {
		order.push(i);
		(kids[i] || []).sort(byStart).forEach(function (k) { order.push(k); });
	});
}

// --- filters ---------------------------------------------------------

function fillFilters() {
	var sel = $('f-proc');
	procs.forEach(function (p) {
		var o = el('option', null, p.comm + '[' + p.pid + ']');
		o.value = p.pid;
		sel.appendChild(o);
	});
	var seen = {};
	lanes.forEach(function (L) {
		for (var s in L.states)
			seen[s] = true;
	});
	STATES.forEach(function (s) {
		if (!seen[s])
			return;
		var o = el('option', null, s);
		o.value = s;
		$('f-state').appendChild(o);
	});
	var kinds = {};
	findings.forEach(function (f) { kinds[f.kind] = true; });
	Object.keys(kinds).sort().forEach(function (k) {
		var o = el('option', null, k);
		o.value = k;
		$('f-finding').appendChild(o);
	});
	['f-proc', 'f-state', 'f-finding'].forEach(function (id) {
		$(id).addEventListener('change', function () { filter(true); });
	});
	['f-port', 'f-text'].forEach(function (id) {
		$(id).addEventListener('input', function () { filter(true); });
	});
}

function filter(refit) {
	var pid = $('f-proc').value, port = $('f-port').value;
	var state = $('f-state').value, fk = $('f-finding').value;
	var text = $('f-text').value.trim().toLowerCase();
	shown = order.filter(function (i) {
		var L = lanes[i];
		if (pid && !L.pids[pid])
			return false;
		if (port !== '' && !L.ports[+port])
			return false;
		if (state && !L.states[state])
			return false;
		if (fk === '*' && !L.finds.length)
			return false;
		if (fk && fk !== '*' && L.finds.indexOf(fk) < 0)
			return false;
		if (pick && !pick.test(L))
			return false;
		return !text || L.text.indexOf(text) >= 0;
	});
	tops = [];
	total = 0;
	shown.forEach(function (i) {
		tops.push(total);
		total += lanes[i].height;
	});
	lanesEl.style.height = total + 'px';
	$('st-count').textContent = (shown.length === lanes.length ?
		lanes.length + ' connections' :
		'showing ' + shown.length + ' of ' + lanes.length + ' connections') +
		(meta.over ? ' (timelines kept within the size budget: see ' +
		'above)' : '');
	if (refit)
		fit();
	else
		draw(true);
}

// --- time ------------------------------------------------------------

function trackWidth() {
	var w = parseFloat(getComputedStyle(document.documentElement)
		.getPropertyValue('--label-w')) || 330;
	return Math.max(scroller.clientWidth - w, 50);
}

function fit() {
	var a = Infinity, b = -Infinity;
	shown.forEach(function (i) {
		a = Math.min(a, lanes[i].start);
		b = Math.max(b, lanes[i].fitEnd);
	});
	setView(a, b, 0.03);
}

function setView(a, b, margin) {
	if (!isFinite(a) || !isFinite(b)) {
		a = 0;
		b = 1e6;
	}
	if (b - a < MIN_SPAN) {
		var mid = (a + b) / 2;
		a = mid - MIN_SPAN / 2;
		b = mid + MIN_SPAN / 2;
	}
	var m = (b - a) * (margin || 0);
	v0 = a - m;
	v1 = b + m;
	draw(true);
}

function zoom(factor, frac) {
	var c = v0 + (v1 - v0) * (frac === undefined ? 0.5 : frac);
	setView(c - (c - v0) * factor, c + (v1 - c) * factor, 0);
}

function pan(px) {
	var dt = px / trackWidth() * (v1 - v0);
	setView(v0 + dt, v1 + dt, 0);
}

// a 1-2-5 step giving about N ticks
function niceStep(span, n) {
	var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
	var f = raw / p;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

function drawAxis(W) {
	axisEl.textContent = '';
	var step = niceStep(v1 - v0, Math.max(2, Math.floor(W / 120)));
	var digits = Math.min(9, Math.max(0, Math.ceil(-Math.log10(step / 1e9))));
	for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
		var k = el('div', 'tick', fmtT(t, digits));
		k.style.left = ((t - v0) / (v1 - v0) * W) + 'px';
		axisEl.appendChild(k);
	}
	$('st-range').textContent = fmtT(v0) + ' \u2026 ' + fmtT(v1) +
		'  (' + fmtDur(v1 - v0) + ' shown)';
}

// --- drawing ---------------------------------------------------------

function laneHeader(e, k) {
	var c = e.c, lbl = el('div', 'lbl');
	var l1 = el('span', 'l1');
	l1.appendChild(el('span', 'role', (k ? '' : c.kind + ' ') + c.role));
	var addr = ' ' + (c.local || '(unbound)') + (c.peer ? ' \u2192 ' + c.peer : '');
	l1.appendChild(document.createTextNode(addr));
	if (c.connect_errno)
		l1.appendChild(el('span', 'bad', ' ' + c.connect_errno));
	var l2 = el('span', 'l2', e.proc + ' fd ' + c.fd + ' \u00b7 conn ' + c.id +
		(c.before_trace ? ' (opened before tracing)' : ''));
	if (c.end === 'exit' || c.end === 'death')
		l2.appendChild(el('span', c.end === 'exit' ? '' : 'bad',
			c.end === 'exit' ? ' closed by exit' : ' open at death'));
	lbl.appendChild(l1);
	lbl.appendChild(l2);
	lbl.setAttribute('data-end', k);
	return lbl;
}

function errnoOf(v) {
	var m = / = -1 (E[A-Z0-9]+)/.exec(v[6]);
	return m ? m[1] : '';
}

function drawEnd(row, e, k, W) {
	var x = function (t) { return (t - v0) / (v1 - v0) * W; };
	var trk = el('div', 'trk');
	e.bands.forEach(function (b, i) {
		if (b.to < v0 || b.from > v1)
			return;
		var a = Math.max(x(b.from), -2), z = Math.min(x(b.to), W + 2);
		var q = b.src === 'inferred' ? '?' : '';
		var d = el('div', 'st st-' + b.s + (q ? ' guess' : ''),
			b.s === 'TIME_WAIT' ? 'TIME_WAIT' + q + ' (60 s)' : b.s + q);
		d.style.left = a + 'px';
		d.style.width = Math.max(z - a, 1) + 'px';
		if (z - a < 6)
			d.className += ' n';
		d.setAttribute('data-band', i);
		trk.appendChild(d);
	});
	if (e.aq && e.aq.to >= v0 && e.aq.from <= v1) {
		var a = Math.max(x(e.aq.from), -2), z = Math.min(x(e.aq.to), W + 2);
		var q = el('div', 'aq', 'accept queue');
		q.style.left = a + 'px';
		q.style.width = Math.max(z - a, 2) + 'px';
		trk.appendChild(q);
		// the state under it names itself after the queue
		var first = trk.querySelector('.st');
		if (first && first.getAttribute('data-band') === '0')
			first.style.paddingLeft = Math.max(z - Math.max(x(e.bands[0].from),
				-2), 0) + 4 + 'px';
	}
	var lastX = -1e9, lastKind = '', labelEnd = -1e9;
	for (var i = 0; i < e.ev.length; i++) {
		var v = e.ev[i], xs = x(v[0]), xe = x(v[2]);
		if (xe < -4 || xs > W + 4)
			continue;
		// marks closer than a pixel would only hide each other
		if (v[5] !== 1 && xs < lastX + 1.5 && v[4] === lastKind)
			continue;
		lastX = xs;
		lastKind = v[4];
		var m = el('div', 'call k-' + v[4] + (v[5] === 1 ? ' err' : ''));
		m.style.left = xs + 'px';
		m.style.width = Math.max(xe - xs, 2) + 'px';
		m.setAttribute('data-ev', i);
		m.setAttribute('aria-label', v[6]);
		var name = v[3] + (v[9] > 1 ? ' \u00d7' + v[9] : '') +
			(v[5] ? ' ' + errnoOf(v) : '');
		m.appendChild(el('span', 'cl', name));
		var wide = xs + Math.max(xe - xs, 2) + 4 + name.length * 5.8;
		if (xs < labelEnd)
			m.className += ' hide';
		else
			labelEnd = wide;
		trk.appendChild(m);
	}
	if (e.c.end !== 'closed' && e.stop >= v0 && e.stop <= v1) {
		var n = el('div', 'note', e.c.end === 'exit' ? 'closed by exit' :
			e.c.end === 'death' ? 'open at death' : 'still open');
		n.style.left = x(e.stop) + 'px';
		trk.appendChild(n);
	}
	row.appendChild(laneHeader(e, k));
	row.appendChild(trk);
}

function firstEv(e, calls) {
	for (var i = 0; i < e.ev.length; i++) {
		var v = e.ev[i];
		if (calls.indexOf(v[3]) >= 0 &&
		    (!v[5] || errnoOf(v) === 'EINPROGRESS'))
			return v;
	}
	return null;
}

// the client's connect and the accept that returned its other end
function drawFlow(laneEl, L, W) {
	var cl = L.ends[0], sv = L.ends[1];
	if (!sv || cl.c.role !== 'client' || sv.c.role !== 'server')
		return;
	var a = firstEv(cl, ['connect']), b = firstEv(sv, ['accept', 'accept4']);
	if (!a || !b)
		return;
	var x1 = (a[2] - v0) / (v1 - v0) * W, x2 = (b[2] - v0) / (v1 - v0) * W;
	if (Math.max(x1, x2) < 0 || Math.min(x1, x2) > W)
		return;
	var f = el('div', 'flow');
	// numbers only: nothing from the trace goes into this markup
	f.innerHTML = '<svg aria-hidden="true"><line x1="' + x1.toFixed(1) +
		'" y1="14" x2="' + x2.toFixed(1) + '" y2="' + (ROW + 3) +
		'"></line></svg>';
	laneEl.appendChild(f);
}

function buildLane(li, W) {
	var L = lanes[li];
	var d = el('div', 'lane' + (L.child ? ' child' : '') +
		(li === selected ? ' sel' : ''));
	d.setAttribute('role', 'listitem');
	d.setAttribute('data-lane', li);
	d.setAttribute('data-conn', L.ends.map(function (e) { return e.c.id; })
		.join(' '));
	d.style.height = L.height + 'px';
	L.ends.forEach(function (e, k) {
		var row = el('div', 'row');
		row.style.top = k * ROW + 'px';
		drawEnd(row, e, k, W);
		d.appendChild(row);
	});
	drawFlow(d, L, W);
	return d;
}

function draw(all) {
	var t = performance.now();
	dirty = 0;
	var W = trackWidth();
	if (all) {
		lanesEl.textContent = '';
		built = {};
		drawAxis(W);
	}
	var y0 = scroller.scrollTop - 300, y1 = scroller.scrollTop +
		scroller.clientHeight + 300;
	// the first lane that reaches y0
	var lo = 0, hi = shown.length;
	while (lo < hi) {
		var mid = (lo + hi) >> 1;
		if (tops[mid] + lanes[shown[mid]].height < y0)
			lo = mid + 1;
		else
			hi = mid;
	}
	var want = {};
	for (var i = lo; i < shown.length && tops[i] <= y1; i++)
		want[i] = true;
	for (var k in built) {
		if (!want[k]) {
			lanesEl.removeChild(built[k]);
			delete built[k];
		}
	}
	for (k in want) {
		if (built[k])
			continue;
		var e = buildLane(shown[k], W);
		e.style.top = tops[k] + 'px';
		lanesEl.appendChild(e);
		built[k] = e;
	}
	document.body.setAttribute('data-lanes-drawn', Object.keys(built).length);
	// how long the last redraw took: responsiveness, measured
	document.body.setAttribute('data-draw-ms',
		(performance.now() - t).toFixed(1));
}

function later(how) {
	if (!dirty)
		requestAnimationFrame(function () { draw(dirty === 2); });
	dirty = Math.max(dirty, how);
}

// --- details ---------------------------------------------------------

function endOf(node) {
	var laneEl = node.closest('.lane'), rowEl = node.closest('.row');
	if (!laneEl || !rowEl)
		return null;
	var L = lanes[+laneEl.getAttribute('data-lane')];
	var k = Array.prototype.indexOf.call(laneEl.querySelectorAll('.row'), rowEl);
	return { L: L, e: L.ends[k] };
}

function laneText(L) {
	var out = [];
	L.ends.forEach(function (e) {
		var c = e.c;
		out.push(c.kind + ' ' + c.role + ' ' + (c.local || '(unbound)') +
			(c.peer ? ' -> ' + c.peer : '') + '  ' + e.proc + ' fd ' + c.fd +
			'  conn ' + c.id);
		out.push('  ' + e.summary);
		if (e.note)
			out.push('  ' + e.note);
		out.push('  states: ' + c.states.map(function (s) {
			return s[0] + (s[2] === 'inferred' ? '?' : '') + ' ' +
				fmtT(s[1] - meta.t0) + ' (' + (s[2] || 'call') + ')';
		}).join(', '));
		if (e.dropped)
			out.push('  (' + e.dropped + ' more lines not kept)');
	});
	findings.forEach(function (f) {
		if (L.ends.some(function (e) { return e.c.id === f.conn; }))
			out.push('finding ' + f.kind + ': ' + f.message);
	});
	return out.join('\n');
}

/* The process that made a call: the end's own, or (a forked child
 * serving what its parent accepted) the one with pid PID. */
function procName(pid, e) {
	if (pid === e.c.pid)
		return e.proc;
	for (var i = 0; i < procs.length; i++)
		if (procs[i].pid === pid)
			return procs[i].comm + '[' + pid + ']';
	return '[' + pid + ']';
}

function describe(node) {
	var w = endOf(node);
	if (!w)
		return '';
	var e = w.e;
	if (node.classList.contains('lbl'))
		return laneText(w.L);
	if (node.classList.contains('call')) {
		var v = e.ev[+node.getAttribute('data-ev')];
		var s = v[6] + '\n' + procName(v[11], e) + ' thread ' + v[8] +
			'  ' + e.c.role +
			' conn ' + e.c.id + '\n';
		if (v[9] > 1)
			s += v[9] + ' calls from ' + fmtT(v[0]) + ' to ' + fmtT(v[2]);
		else
			s += 'returned at ' + fmtT(v[2]) + ', took ' + fmtDur(v[1]);
		if (v[7])
			s += '\n' + v[7];
		if (v[10].length)
			s += '\nstates: ' + v[10].join(' -> ');
		return s;
	}
	if (node.classList.contains('aq'))
		return 'accept queue: ' + fmtDur(e.aq.to - e.aq.from) + '\nThe ' +
			'client\'s final ACK completed the handshake at ' +
			fmtT(e.aq.from) + ' (its connect returned on SYN+ACK; the ' +
			'ACK arrives a one-way delay later); the connection ' +
			'then waited in the listener\'s accept queue until accept ' +
			'returned it at ' + fmtT(e.aq.to) + '.';
	if (node.classList.contains('st')) {
		var b = e.bands[+node.getAttribute('data-band')];
		return b.s + (b.src === 'inferred' ? '?' : '') + ' from ' +
			fmtT(b.from) + ' to ' + fmtT(b.to) + ' (' +
			fmtDur(b.to - b.from) + ')  ' + e.c.role + ' conn ' + e.c.id +
			'\nshown by ' + b.src + ': ' + SOURCE[b.src] +
			'\n' + (EXPLAIN[b.s] || '');
	}
	return '';
}

function hoverable(t) {
	return t.closest && t.closest('.call, .st, .aq, .lbl');
}

function wireDetails() {
	lanesEl.addEventListener('mouseover', function (ev) {
		var n = hoverable(ev.target);
		if (!n) {
			tip.hidden = true;
			return;
		}
		tip.textContent = describe(n);
		tip.hidden = false;
		if (!pinned)
			details.textContent = tip.textContent;
	});
	lanesEl.addEventListener('mousemove', function (ev) {
		var x = Math.min(ev.clientX + 14, window.innerWidth - 470);
		tip.style.left = Math.max(0, x) + 'px';
		tip.style.top = (ev.clientY + 16) + 'px';
	});
	lanesEl.addEventListener('mouseleave', function () { tip.hidden = true; });
	lanesEl.addEventListener('click', function (ev) {
		var n = hoverable(ev.target);
		var laneEl = ev.target.closest('.lane');
		if (laneEl)
			select(+laneEl.getAttribute('data-lane'));
		if (n) {
			details.textContent = describe(n);
			pinned = true;
		}
	});
	lanesEl.addEventListener('dblclick', function (ev) {
		var laneEl = ev.target.closest('.lane');
		if (!laneEl)
			return;
		var L = lanes[+laneEl.getAttribute('data-lane')];
		setView(L.start, L.fitEnd, 0.05);
	});
}

function select(li) {
	selected = li;
	for (var k in built)
		built[k].classList.toggle('sel', +built[k].getAttribute('data-lane') === li);
}

// show connection ID: its lane in view, zoomed to it, its details kept
function focusConn(id) {
	var w = byConn[id];
	if (!w)
		return false;
	var idx = shown.indexOf(w.lane);
	if (idx < 0) {
		['f-proc', 'f-state', 'f-finding', 'f-port', 'f-text'].forEach(
			function (f) { $(f).value = ''; });
		pick = null;
		document.body.setAttribute('data-pick', '');
		filter(false);
		idx = shown.indexOf(w.lane);
	}
	var L = lanes[w.lane];
	selected = w.lane;
	scroller.scrollTop = Math.max(0, tops[idx] - 40);
	setView(L.start, L.fitEnd, 0.05);
	details.textContent = laneText(L);
	pinned = true;
	return true;
}

// --- side panels -----------------------------------------------------

function fillFindings() {
	var ol = $('st-findings');
	if (!findings.length)
		ol.appendChild(el('li', 'none', 'none: nothing the trace shows ' +
			'looks wrong'));
	// thousands of one kind say no more than their group above
	if (findings.length > MAX_FINDINGS)
		ol.appendChild(el('li', 'none', 'the first ' + MAX_FINDINGS +
			' of ' + findings.length + ' (all of them are counted in ' +
			'"Findings, grouped" above)'));
	findings.slice(0, MAX_FINDINGS).forEach(function (f) {
		var li = el('li');
		li.appendChild(el('span', 'fk', f.kind));
		li.appendChild(document.createTextNode(': ' + f.message + ' '));
		if (f.conn && byConn[f.conn]) {
			var a = el('a', null, 'show connection ' + f.conn);
			a.href = '#conn=' + f.conn;
			a.addEventListener('click', function (ev) {
				ev.preventDefault();
				history.replaceState(null, '', '#conn=' + f.conn);
				focusConn(f.conn);
			});
			li.appendChild(a);
		}
		ol.appendChild(li);
	});
}

function fillProcs() {
	var tb = $('st-procs').tBodies[0];
	procs.forEach(function (p) {
		var tr = el('tr');
		var name = el('td', null, p.comm + '[' + p.pid + ']');
		name.title = p.exe + '\n' + p.file;
		tr.appendChild(name);
		tr.appendChild(el('td', null, String(p.ppid)));
		tr.appendChild(el('td', null, String(p.records)));
		var lost = el('td', null, String(p.lost));
		if (p.lost || p.corrupt) {
			lost.className = 'warn';
			lost.textContent = p.lost + ' lost' + (p.corrupt ? ', ' +
				p.corrupt + ' corrupt' : '') + ': its timelines may be ' +
				'incomplete';
		}
		tr.appendChild(lost);
		tr.appendChild(el('td', null, p.exit_ts === null ? 'no (killed, ' +
			'running or _exit)' : fmtT(p.exit_ts - meta.t0)));
		tb.appendChild(tr);
	});
}

function fillLegend() {
	var g = $('st-legend');
	var line = function (title, names, cls) {
		var p = el('div');
		p.appendChild(el('span', null, title + ': '));
		names.forEach(function (n) {
			p.appendChild(el('span', 'sw ' + cls(n)));
			p.appendChild(document.createTextNode(n));
		});
		g.appendChild(p);
	};
	line('calls', KINDS.concat(['error']), function (k) {
		return k === 'error' ? 'call err' : 'k-' + k;
	});
	line('states', STATES.concat(['accept queue']), function (s) {
		return s === 'accept queue' ? 'aq' : 'st-' + s;
	});
	g.appendChild(el('div', null, 'STATE? (dashed): a guess, no call, ' +
		'kernel query or traced peer showed it; hover a state for ' +
		'what showed it'));
	g.querySelectorAll('.sw').forEach(function (s) {
		s.style.position = 'static';
	});
}

function fillSummary() {
	var n = 0;
	lanes.forEach(function (L) { n += L.ends.length; });
	var when = meta.wall0 ? new Date(meta.wall0 / 1e6).toLocaleString() : '';
	// past the size budget, the lanes are not all: say both
	var head = meta.over && overview ? overview.conns + ' connections, ' +
		meta.kept + ' with timelines (' + lanes.length + ' lanes, ' + n +
		' ends)' : lanes.length + ' connections (' + n + ' ends)';
	var nf = meta.over ? stats.reduce(function (k, g) {
		return k + (g.type === 'finding_group' ? g.count : 0);
	}, 0) : findings.length;
	$('st-summary').textContent = head + ' in ' + procs.length +
		' processes, ' + nf +
		' findings' + (when ? '; first call at ' + when : '') +
		'; report made ' + meta.generated;
}

// --- input -----------------------------------------------------------

function wireInput() {
	$('z-in').addEventListener('click', function () { zoom(0.5); });
	$('z-out').addEventListener('click', function () { zoom(2); });
	$('z-fit').addEventListener('click', fit);
	scroller.addEventListener('scroll', function () { later(1); });
	window.addEventListener('resize', function () { later(2); });
	scroller.addEventListener('wheel', function (ev) {
		var r = scroller.getBoundingClientRect();
		var W = trackWidth(), x = ev.clientX - r.left - (r.width - W);
		if (ev.ctrlKey || ev.metaKey || ev.altKey) {
			ev.preventDefault();
			zoom(ev.deltaY > 0 ? 1.25 : 0.8, Math.min(1, Math.max(0, x / W)));
		} else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
			ev.preventDefault();
			pan(ev.deltaX || ev.deltaY);
		}
	}, { passive: false });
	var drag = null;
	lanesEl.addEventListener('mousedown', function (ev) {
		var t = ev.target.closest('.trk');
		if (!t || ev.button !== 0)
			return;
		drag = { x: ev.clientX, moved: false };
		t.classList.add('drag');
	});
	window.addEventListener('mousemove', function (ev) {
		if (!drag)
			return;
		var dx = ev.clientX - drag.x;
		if (Math.abs(dx) < 2)
			return;
		drag.x = ev.clientX;
		drag.moved = true;
		var dt = -dx / trackWidth() * (v1 - v0);
		v0 += dt;
		v1 += dt;
		later(2);
	});
	window.addEventListener('mouseup', function () { drag = null; });
	scroller.addEventListener('keydown', function (ev) {
		var k = ev.key;
		if (k === '+' || k === '=')
			zoom(0.5);
		else if (k === '-')
			zoom(2);
		else if (k === '0')
			fit();
		else if (k === 'ArrowLeft')
			pan(-trackWidth() / 5);
		else if (k === 'ArrowRight')
			pan(trackWidth() / 5);
		else
			return;
		ev.preventDefault();
	});
	window.addEventListener('hashchange', fromHash);
}

function fromHash() {
	var m = /^#conn=(\d+:\d+)$/.exec(location.hash);
	return m ? focusConn(m[1]) : false;
}

// what the overview (overview.js) may do to the lanes
function overviewApi() {
	return {
		meta: meta, lanes: lanes, overview: overview, stats: stats,
		byConn: byConn, el: el, fmtT: fmtT, fmtDur: fmtDur,
		// narrow the lanes to those TEST accepts (null: all), said as WHAT
		pick: function (test, what, a, b) {
			pick = test ? { test: test, what: what } : null;
			filter(a === undefined);
			if (a !== undefined)
				setView(a, b, 0);
			document.body.setAttribute('data-pick', pick ? what : '');
			return shown.length;
		},
		focus: focusConn,
		shown: function () { return shown.length; }
	};
}

try {
	load();
	fillFilters();
	fillFindings();
	fillProcs();
	fillLegend();
	fillSummary();
	wireDetails();
	wireInput();
	filter(true);
	if (typeof stOverview === 'function')
		stOverview(overviewApi());
	fromHash();
	document.body.setAttribute('data-script-ms',
		Math.round(performance.now() - started));
	document.body.setAttribute('data-ready-ms', Math.round(performance.now()));
	document.body.setAttribute('data-ready', 'yes');
} catch (ex) {
	fail(ex && ex.message ? ex.message : String(ex));
}
})();
