import CCurl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a URL leads, as libcurl itself reads it (not Foundation's parser, which disagrees on
/// edge cases), and the addresses its host resolves to — so that a caller can check the very
/// address libcurl will connect to and pin it (`CurlRequest.pinned`).
public struct CurlTarget: Sendable, Equatable {
    public let scheme: String
    /// Lower-cased; an IPv6 literal without its brackets.
    public let host: String
    public let port: Int
    /// The URL carries a user name or password.
    public let hasCredentials: Bool

    /// The URL's parts as libcurl reads them; nil when libcurl refuses the URL.
    public static func parse(_ url: String) -> CurlTarget? {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart, _ flags: UInt32 = 0) -> String? {
            var out: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &out, flags) == CURLUE_OK, let out else { return nil }
            defer { curl_free(out) }
            return String(cString: out)
        }
        guard let scheme = part(CURLUPART_SCHEME)?.lowercased(), var host = part(CURLUPART_HOST)?.lowercased(),
            let portText = part(CURLUPART_PORT, UInt32(CURLU_DEFAULT_PORT)), let port = Int(portText)
        else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return CurlTarget(
            scheme: scheme,
            host: host,
            port: port,
            hasCredentials: part(CURLUPART_USER) != nil || part(CURLUPART_PASSWORD) != nil
        )
    }

    /// The numeric addresses the host resolves to (the host itself when it is a literal).
    public func addresses() -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(text) { out.append(text) }
            }
            next = info.pointee.ai_next
        }
        return out
    }

    /// What kind of address a numeric address is.
    public enum AddressKind: Sendable, Equatable {
        case loopback, linkLocal, unspecified, multicast, privateNetwork, global
    }

    /// The kind of a numeric address; nil when `address` is not one (a host name).
    public static func kind(of address: String) -> AddressKind? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }  // network order
            switch (b[0], b[1]) {
            case (127, _): return .loopback
            case (0, _): return .unspecified
            case (169, 254): return .linkLocal
            case (10, _), (192, 168), (100, 64...127): return .privateNetwork
            case (172, 16...31): return .privateNetwork
            case (224...239, _): return .multicast
            default: return .global
            }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let b = withUnsafeBytes(of: v6) { Array($0) }
            if b.allSatisfy({ $0 == 0 }) { return .unspecified }
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {  // IPv4-mapped
                return kind(of: "\(b[12]).\(b[13]).\(b[14]).\(b[15])")
            }
            if b[0] == 0xFE && (b[1] & 0xC0) == 0x80 { return .linkLocal }
            if (b[0] & 0xFE) == 0xFC { return .privateNetwork }
            if b[0] == 0xFF { return .multicast }
            return .global
        }
        return nil
    }

    /// The `CURLOPT_RESOLVE` entry that makes libcurl connect to `address` for this target.
    public func pin(_ address: String) -> String {
        "\(host):\(port):\(address.contains(":") ? "[\(address)]" : address)"
    }
}
