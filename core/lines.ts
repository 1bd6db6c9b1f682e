/**
 * @module Lines of a text file, streamed: `for await (const [text, number] of readLines(path))`.
 * Handles `\n` and `\r\n`, a last line without newline, and files larger than memory.
 */
export async function* readLines(path: string): AsyncGenerator<[string, number]> {
	const decoder = new TextDecoder();
	let rest = "";
	let n = 0;
	for await (const chunk of Bun.file(path).stream()) {
		rest += decoder.decode(chunk, { stream: true });
		let start = 0;
		let nl = rest.indexOf("\n", start);
		while (nl >= 0) {
			const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
			yield [rest.slice(start, end), ++n];
			start = nl + 1;
			nl = rest.indexOf("\n", start);
		}
		rest = rest.slice(start);
	}
	rest += decoder.decode();
	if (rest.length > 0) yield [rest.endsWith("\r") ? rest.slice(0, -1) : rest, ++n];
}
