// guest.ts — an AssemblyScript waPC guest for apron's tests, built with @wapc/as-guest.
// Operations: "hello" answers "Hello, <payload>"; "echo" returns the payload unchanged; "fail"
// returns the error "this is a test error"; "panic" throws, so the runtime calls abort (which
// records the message as the guest error) and then traps. Host calls: "upper" logs a line, asks
// wapc:testing:upper for the payload and answers "host said: <reply>" (a host error becomes the
// guest error); "kv" takes "key=value", stores it with tarmac:kvstore:set and answers what
// tarmac:kvstore:get returns (Tarmac's JSON messages).
import { register, handleCall, handleAbort, hostCall, consoleLog, Result } from "@wapc/as-guest";

register("hello", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  return Result.ok<ArrayBuffer>(String.UTF8.encode("Hello, " + String.UTF8.decode(payload)));
});

register("echo", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  return Result.ok<ArrayBuffer>(payload);
});

register("fail", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  return Result.error<ArrayBuffer>(new Error("this is a test error"));
});

register("panic", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  throw new Error("guest panicked");
});

register("upper", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  consoleLog("upper: calling the host");
  const r = hostCall("wapc", "testing", "upper", payload);
  if (!r.isOk) return Result.error<ArrayBuffer>(r.error()!);
  return Result.ok<ArrayBuffer>(String.UTF8.encode("host said: " + String.UTF8.decode(r.get())));
});

register("kv", function (payload: ArrayBuffer): Result<ArrayBuffer> {
  const text = String.UTF8.decode(payload);
  const eq = text.indexOf("=");
  if (eq < 0) return Result.error<ArrayBuffer>(new Error("kv: want key=value"));
  const key = text.substring(0, eq);
  const value = String.UTF8.encode(text.substring(eq + 1));
  const set = hostCall("tarmac", "kvstore", "set", String.UTF8.encode(
    "{\"key\":\"" + key + "\",\"data\":\"" + base64(value) + "\"}"));
  if (!set.isOk) return Result.error<ArrayBuffer>(set.error()!);
  return hostCall("tarmac", "kvstore", "get", String.UTF8.encode("{\"key\":\"" + key + "\"}"));
});

function base64(buf: ArrayBuffer): string {
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const b = Uint8Array.wrap(buf);
  let out = "";
  for (let i = 0; i < b.length; i += 3) {
    const n: u32 = (<u32>b[i] << 16) | (i + 1 < b.length ? <u32>b[i + 1] << 8 : 0) |
      (i + 2 < b.length ? <u32>b[i + 2] : 0);
    out += B64.charAt((n >> 18) & 63) + B64.charAt((n >> 12) & 63);
    out += i + 1 < b.length ? B64.charAt((n >> 6) & 63) : "=";
    out += i + 2 < b.length ? B64.charAt(n & 63) : "=";
  }
  return out;
}

// The waPC entry point; it must be exported from the entry file.
export function __guest_call(operation_size: usize, payload_size: usize): bool {
  return handleCall(operation_size, payload_size);
}

// Used as the runtime's abort through `--use abort=assembly/guest/abort` (see build.sh), so the
// module imports no env.abort.
function abort(message: string | null, fileName: string | null, lineNumber: u32,
                      columnNumber: u32): void {
  handleAbort(message, fileName, lineNumber, columnNumber);
  unreachable();
}
