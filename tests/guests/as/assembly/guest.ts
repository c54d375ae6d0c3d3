// guest.ts — an AssemblyScript waPC guest for apron's tests, built with @wapc/as-guest.
// Operations: "hello" answers "Hello, <payload>"; "echo" returns the payload unchanged; "fail"
// returns the error "this is a test error"; "panic" throws, so the runtime calls abort (which
// records the message as the guest error) and then traps.
import { register, handleCall, handleAbort, Result } from "@wapc/as-guest";

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
