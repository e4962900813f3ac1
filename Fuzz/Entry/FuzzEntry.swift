// The libFuzzer entry points of `yizhan-fuzz`, built only by `make fuzz` (YIZHAN_FUZZ=1,
// -sanitize=fuzzer): libFuzzer brings `main`, this file brings the two callbacks.
//
// One executable serves every target, so the instrumented graph is linked once. The target
// is the `YIZHAN_FUZZ_TARGET` environment variable, or the program's name when it is
// `fuzz-<target>` (make fuzz links those names to this binary). Both survive libFuzzer
// re-running itself for -merge, -fork and -minimize_crash.
#if canImport(Glibc)
import Glibc
#endif
import YizhanFuzzTargets

nonisolated(unsafe) private var selected: FuzzTarget = .rfc3339

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    var name: String?
    if let env = getenv("YIZHAN_FUZZ_TARGET") {
        name = String(cString: env)
    } else if let args = argv.pointee, let program = args[0] {
        let base = String(cString: program).split(separator: "/").last.map(String.init) ?? ""
        if base.hasPrefix("fuzz-") { name = String(base.dropFirst(5)) }
    }
    guard let name, let target = FuzzTarget(rawValue: name) else {
        var usage = "yizhan-fuzz: set YIZHAN_FUZZ_TARGET (or run it as fuzz-<target>) to one of:\n"
        for t in FuzzTarget.allCases { usage += "  \(t.rawValue.padding(16)) \(t.summary)\n" }
        usage.withCString { _ = write(2, $0, strlen($0)) }
        exit(2)
    }
    selected = target
    return 0
}

/// libFuzzer's driver (libclang_rt.fuzzer), called from our entry point below.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links every executable with `main` pointing at `<module>_main`.
@_cdecl("yizhan_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzerTestOneInput(data, size) })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try selected.run(bytes)
    } catch {
        fatalError("\(error)")  // libFuzzer saves the input as crash-<sha1>
    }
    return 0
}

extension String {
    fileprivate func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
