/**
 * Network events from the real kernel: a TCP listener and a client on loopback (the fixture
 * program, in processes of their own: the agent's own syscalls are filtered), IPv6 and unix
 * sockets.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { actionsBinary, eventsOf, observeAct, ofType, type ProbeRun, payload, useProbe } from "./harness.ts";

let probe: ProbeRun;
let dir: string;
useProbe("network", { event_types: ["connect", "bind", "accept", "exec", "fork", "exit"] }, (p, d) => {
	probe = p;
	dir = d;
});

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;

describe("TCP on loopback", () => {
	test("connect, bind and accept report family, address, port and protocol", async () => {
		const server = Bun.spawn([actionsBinary(), "tcp_server"], { stdout: "pipe" });
		const lines = (async function* () {
			let buffered = "";
			for await (const chunk of server.stdout) {
				buffered += new TextDecoder().decode(chunk);
				let nl = buffered.indexOf("\n");
				while (nl >= 0) {
					yield buffered.slice(0, nl);
					buffered = buffered.slice(nl + 1);
					nl = buffered.indexOf("\n");
				}
			}
		})();
		const port = Number((await lines.next()).value);
		const client = await observeAct(probe, ["connect4", String(port)]);
		const clientPort = Number(client.ran.stdout);
		expect(payload(ofType(client.events, "connect")[0])).toEqual({
			addr: { family: AF_INET, ip: "127.0.0.1", port },
			protocol: IPPROTO_TCP,
			retval: 0,
		});
		expect(Number((await lines.next()).value)).toBe(clientPort);
		await server.exited;
		const serverEvents = await eventsOf(probe, server.pid, "the server");
		expect(payload(ofType(serverEvents, "bind")[0])).toEqual({
			addr: { family: AF_INET, ip: "127.0.0.1", port: 0 },
			protocol: IPPROTO_TCP,
			retval: 0,
		});
		const accept = ofType(serverEvents, "accept")[0];
		expect(payload(accept).addr).toEqual({ family: AF_INET, ip: "127.0.0.1", port: clientPort });
		expect(payload(accept).protocol).toBe(IPPROTO_TCP);
		expect(payload(accept).retval).toBeGreaterThanOrEqual(0);
	});

	test("an IPv6 connect reports ::1, and ECONNREFUSED when nothing listens", async () => {
		const listener = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
		const port = listener.port;
		listener.stop(true);
		const { events } = await observeAct(probe, ["connect6", String(port)]);
		expect(payload(ofType(events, "connect")[0])).toEqual({
			addr: { family: AF_INET6, ip: "::1", port },
			protocol: IPPROTO_TCP,
			retval: -111,
		});
	});
});

test("unix sockets: bind and connect report the socket path", async () => {
	const path = join(dir, "vigil.sock");
	const { events } = await observeAct(probe, ["unix", path]);
	for (const type of ["bind", "connect"]) {
		const e = ofType(events, type)[0];
		expect(payload(e).addr).toMatchObject({ family: AF_UNIX, path });
		expect(payload(e).retval).toBe(0);
	}
});
