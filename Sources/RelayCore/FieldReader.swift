/// Reads the fields of a OneAll request object the way OneAll's SDKs send them.
///
/// The SDKs send every optional field, empty when unused, so an empty string, an empty array or
/// `null` count as absent; ids may arrive as numbers or strings. Every error names the full field path
/// (`request.push.post.message`) so a client knows exactly what to fix.
public struct FieldReader: Sendable {
    public let value: JSONValue
    public let path: String

    public init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    /// The member `key`, or nil when absent or empty.
    public func present(_ key: String) -> JSONValue? {
        switch value[key] {
        case .none, .null: return nil
        case .string(let text) where text.allSatisfy(\.isWhitespace): return nil
        case .array(let items) where items.isEmpty: return nil
        case .object(let members) where members.isEmpty: return nil
        case let member?: return member
        }
    }

    public func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func string(_ key: String) throws(RelayError) -> String? {
        guard let member = present(key) else { return nil }
        guard case .string(let text) = member else {
            throw .badRequest("\(field(key)) must be a string, got \(member.typeName)")
        }
        return text
    }

    public func requiredString(_ key: String) throws(RelayError) -> String {
        guard let text = try string(key) else { throw .badRequest("\(field(key)) is required") }
        return text
    }

    /// An identifier: a string, or an integer as OneAll's SDK samples send them; always returned as a string.
    public func identifier(_ key: String) throws(RelayError) -> String? {
        guard let member = present(key) else { return nil }
        return try Self.identifier(member, field: field(key))
    }

    /// The longest identifier accepted, in bytes. Provider ids, media ids and URNs are far shorter; some
    /// identifiers are keys of PostgreSQL indexes (`identities (provider, provider_user_id)`, the accounts of an
    /// identity), which refuse entries over about 2.7 kB with an error.
    public static let maximumIdentifierLength = 255

    static func identifier(_ member: JSONValue, field: String) throws(RelayError) -> String {
        switch member {
        case .string(let text):
            let identifier = text.trimmingCharacters(in: .whitespaces)
            guard identifier.utf8.count <= maximumIdentifierLength else {
                throw .badRequest(
                    "\(field) is \(identifier.utf8.count) bytes long; identifiers are at most \(maximumIdentifierLength)")
            }
            return identifier
        case .integer(let number) where number >= 0: return String(number)
        default: throw .badRequest("\(field) must be an identifier (a string or a whole number), got \(member.typeName)")
        }
    }

    /// A list of identifiers. A bare string is refused: a list field is still a list.
    public func identifiers(_ key: String) throws(RelayError) -> [String] {
        guard let member = present(key) else { return [] }
        guard case .array(let items) = member else {
            throw .badRequest("\(field(key)) must be an array of identifiers, got \(member.typeName)")
        }
        var ids: [String] = []
        for (index, item) in items.enumerated() {
            if case .null = item { continue }
            let id = try Self.identifier(item, field: "\(field(key))[\(index)]")
            if !id.isEmpty { ids.append(id) }
        }
        return ids
    }

    public func bool(_ key: String) throws(RelayError) -> Bool? {
        guard let member = present(key) else { return nil }
        switch member {
        case .bool(let flag): return flag
        case .string("true"), .string("1"), .integer(1): return true
        case .string("false"), .string("0"), .integer(0): return false
        default: throw .badRequest("\(field(key)) must be a boolean, got \(member.typeName)")
        }
    }

    /// An absolute http(s) URL.
    public func url(_ key: String) throws(RelayError) -> String? {
        guard let text = try string(key) else { return nil }
        return try Self.checkURL(text.trimmingCharacters(in: .whitespaces), field: field(key))
    }

    /// A string of at most `limit` characters (the provider's own limit, checked before it is called).
    public func string(_ key: String, maxLength limit: Int) throws(RelayError) -> String? {
        guard let text = try string(key) else { return nil }
        guard text.count <= limit else {
            throw .badRequest("\(field(key)) is \(text.count) characters long; the limit is \(limit)")
        }
        return text
    }

    /// The first of several alias fields that is present (`description`, else `note`), as a string.
    public func string(anyOf keys: [String], maxLength limit: Int) throws(RelayError) -> String? {
        for key in keys { if let text = try string(key, maxLength: limit) { return text } }
        return nil
    }

    /// The first of several alias fields that is present, as an absolute http(s) URL.
    public func url(anyOf keys: [String]) throws(RelayError) -> String? {
        for key in keys { if let url = try url(key) { return url } }
        return nil
    }

    public func requiredURL(_ key: String) throws(RelayError) -> String {
        guard let url = try url(key) else { throw .badRequest("\(field(key)) is required") }
        return url
    }

    /// The longest URL a request may give (links, media, callbacks): far beyond any real one, short enough that
    /// a URL stored on a job or a subscription, listed and logged, stays a URL.
    public static let maximumURLLength = 4096

    /// Checks that `text` is an absolute http(s) URL the relay (or a provider) could connect to, and returns it
    /// with its scheme in lower case (RFC 3986 §6.2.2.1: `HTTPS://…` is `https://…`), the form that is stored.
    static func checkURL(_ text: String, field: String) throws(RelayError) -> String {
        guard text.utf8.count <= maximumURLLength else {
            throw .badRequest("\(field) is \(text.utf8.count) bytes long; URLs are at most \(maximumURLLength)")
        }
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else {
            throw .badRequest("\(field) must be an absolute http or https URL")
        }
        if components.user != nil || components.password != nil {
            throw .badRequest("\(field) must not hold a user name or password (user:password@host)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw .badRequest("\(field) has port \(port); a port is from 1 to 65535")
        }
        if !host.hasPrefix("["), !isHostName(URL(string: text)?.host ?? host) {
            throw .badRequest("\(field) has no valid host name: labels are 1 to 63 characters, separated by single dots")
        }
        return scheme + text.dropFirst(scheme.utf8.count)
    }

    /// A DNS name (RFC 1035 §2.3.4, in its ASCII form for international names): at most 253 characters,
    /// labels of 1 to 63, one final dot allowed.
    static func isHostName(_ host: String) -> Bool {
        let name = host.hasSuffix(".") ? host.dropLast() : Substring(host)
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { (1...63).contains($0.utf8.count) }
    }

    /// The object under `key`, required.
    public func requiredObject(_ key: String) throws(RelayError) -> FieldReader {
        guard let member = value[key], member != .null else { throw .badRequest("\(field(key)) is required") }
        guard case .object = member else {
            throw .badRequest("\(field(key)) must be an object, got \(member.typeName)")
        }
        return FieldReader(member, path: field(key))
    }

    public func object(_ key: String) throws(RelayError) -> FieldReader? {
        guard let member = present(key) else { return nil }
        guard case .object = member else {
            throw .badRequest("\(field(key)) must be an object, got \(member.typeName)")
        }
        return FieldReader(member, path: field(key))
    }
}

import Foundation
