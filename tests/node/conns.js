// SPDX-License-Identifier: MIT
// Node.js servers and clients for tests/it_syscall.py: libuv's sockets.
//
// node conns.js http N keepalive|close: an http server, and a client in
// a child process (traced as well) that makes N requests, two sockets at
// most, keep-alive on or off.  node conns.js net N: a net echo server and
// a child that connects N times, one after the other, sends a byte and
// closes when it comes back; the server closes on the client's FIN.
// The server waits for the child's exit and for every socket it
// accepted to close, then closes and prints what Node itself counted,
// as one JSON line: {"accepted", "closed", "requests"}; the child
// prints {"opened"}.  node conns.js serve PORT: an http server on PORT
// until killed, for socktrace attach.
'use strict';
const http = require('http');
const net = require('net');
const { spawn } = require('child_process');

function client(port, mode, n, ka) {
	let done = 0, opened = 0;
	const finish = () => console.log(JSON.stringify({ opened }));
	if (mode === 'net') {
		const one = () => {
			const s = net.connect(port, '127.0.0.1',
					      () => s.write('x'));
			opened++;
			/* the client closes first */
			s.on('data', () => s.end());
			s.on('close', () => (++done < n ? one() : finish()));
		};
		one();
		return;
	}
	const agent = new http.Agent({ keepAlive: ka === 'keepalive',
				       maxSockets: 2 });
	const one = () => {
		const req = http.get({ host: '127.0.0.1', port, path: '/',
				       agent }, (res) => {
			res.resume();
			res.on('end', () => {
				if (++done < n)
					return one();
				agent.destroy();
				finish();
			});
		});
		req.on('socket', (s) => {
			if (!s.counted) {
				s.counted = true;
				opened++;
			}
		});
	};
	one();
}

function serve(mode, n, ka) {
	let accepted = 0, closed = 0, requests = 0, clientDone = false;
	let server;
	const maybeEnd = () => {
		if (!clientDone || closed !== accepted)
			return;
		server.close(() => console.log(JSON.stringify(
			{ accepted, closed, requests })));
	};
	if (mode === 'net') {
		/* echo, and close on the client's FIN: nothing is left to
		 * chance about who closes first */
		server = net.createServer({ allowHalfOpen: true }, (s) => {
			s.on('data', (d) => s.write(d));
			s.on('end', () => s.end());
		});
	} else {
		server = http.createServer((req, res) => {
			requests++;
			res.end('hello ' + requests + '\n');
		});
	}
	server.on('connection', (s) => {
		accepted++;
		s.on('close', () => {
			closed++;
			maybeEnd();
		});
	});
	server.listen(0, '127.0.0.1', () => {
		const port = server.address().port;
		const c = spawn(process.execPath,
				[__filename, 'client', String(port), mode,
				 String(n), ka],
				{ stdio: 'inherit' });
		c.on('exit', (code) => {
			if (code !== 0)
				process.exit(1);
			clientDone = true;
			maybeEnd();
		});
	});
}

const a = process.argv.slice(2);
if (a[0] === 'serve')
	http.createServer((req, res) => res.end('hello\n'))
		.listen(Number(a[1]), '127.0.0.1');
else if (a[0] === 'client')
	client(Number(a[1]), a[2], Number(a[3]), a[4]);
else
	serve(a[0], Number(a[1]), a[2] || 'close');
