import CreditCore
import Foundation
import Store

/// A child process of the built `xyd`, its standard output and error collected.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let collected = Locked(Data())
    /// Bound on waiting (not a timing assertion: a hung child is killed and reported).
    public static let waitLimit = Duration.seconds(120)

    public static func xyd(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        let child = ChildProcess()
        let pipe = Pipe()
        child.process.executableURL = URL(fileURLWithPath: TestEnvironment.xydBinary)
        child.process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("XYD_") }
        env.merge(environment) { _, new in new }
        child.process.environment = env
        child.process.standardError = pipe
        child.process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.collected.withLock { $0.append(data) }
        }
        try child.process.run()
        return child
    }

    private let errors = Locked(Data())

    /// Any program (found on PATH when `executable` has no slash), standard output and
    /// standard error collected apart.
    public static func launch(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        let child = ChildProcess()
        let out = Pipe(), err = Pipe()
        if executable.contains("/") {
            child.process.executableURL = URL(fileURLWithPath: executable)
            child.process.arguments = arguments
        } else {
            child.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            child.process.arguments = [executable] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        child.process.environment = env
        child.process.standardOutput = out
        child.process.standardError = err
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.collected.withLock { $0.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.errors.withLock { $0.append(data) }
        }
        try child.process.run()
        return child
    }

    /// Standard error, for a child started with `launch`.
    public func errorOutput() -> String { String(decoding: errors.withLock { $0 }, as: UTF8.self) }

    public func output() -> String { String(decoding: collected.withLock { $0 }, as: UTF8.self) }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The exit status (negative: the signal that ended it). Polls, so as not to block a
    /// thread of the cooperative pool.
    public func wait() async throws -> Int32 {
        let started = ContinuousClock.now
        while process.isRunning {
            if ContinuousClock.now - started > Self.waitLimit {
                kill(process.processIdentifier, SIGKILL)
                throw TestSetupError("\(process.arguments ?? []) did not exit:\n\(output())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))  // let the last output arrive
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}

