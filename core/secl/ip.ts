/**
 * @module IP addresses and CIDR ranges for SECL: `connect.addr.ip in [127.0.0.0/8, ::1/128]`,
 * `ip == 10.0.0.0/8` (containment). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as
 * their IPv4 address.
 */
import { parseIpv4, parseIpv6 } from "./lexer.ts";

export interface Cidr {
	readonly bytes: Uint8Array;
	readonly bits: number;
}

/** The 4 or 16 bytes of an address, or undefined when it is not one. */
const parseIp = (text: string): Uint8Array | undefined => {
	if (!text.includes(":")) {
		const v4 = parseIpv4(text);
		return v4 === undefined
			? undefined
			: new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
	}
	const v6 = parseIpv6(text);
	if (!v6) return undefined;
	const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
	return mapped ? v6.slice(12) : v6;
};

/** A range from `a.b.c.d/n`, `x::/n`, or a single address (full-length prefix). */
export const parseCidr = (text: string): Cidr | undefined => {
	const slash = text.indexOf("/");
	const bytes = parseIp(slash < 0 ? text : text.slice(0, slash));
	if (!bytes) return undefined;
	const bits = slash < 0 ? bytes.length * 8 : Number(text.slice(slash + 1));
	if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) return undefined;
	return { bytes, bits };
};

const cidrContains = (c: Cidr, ip: Uint8Array): boolean => {
	if (ip.length !== c.bytes.length) return false;
	const full = c.bits >> 3;
	for (let i = 0; i < full; i++) if (ip[i] !== c.bytes[i]) return false;
	const rest = c.bits & 7;
	if (rest === 0) return true;
	const mask = (0xff << (8 - rest)) & 0xff;
	return ((ip[full] as number) & mask) === ((c.bytes[full] as number) & mask);
};

/** A canonical text form, so `::1` and `0:0::1` compare equal; non-addresses stay as they are. */
export const normalizeIp = (text: string): string => {
	const b = parseIp(text);
	if (!b) return text;
	if (b.length === 4) return b.join(".");
	const words: string[] = [];
	for (let i = 0; i < 16; i += 2) words.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
	return words.join(":");
};

/** Whether `ip` (text) is in any of `ranges`. */
export const inRanges = (ranges: readonly Cidr[], ip: string): boolean => {
	const b = parseIp(ip);
	if (!b) return false;
	for (const r of ranges) if (cidrContains(r, b)) return true;
	return false;
};
