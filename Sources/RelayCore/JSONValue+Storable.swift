extension JSONValue {
    /// The value with every U+0000 in its strings and keys replaced by U+FFFD (the replacement character).
    ///
    /// PostgreSQL's `text` and `jsonb` cannot hold U+0000, and what providers and subscribers answer can
    /// (a binary body's excerpt, an error message): written as is, it made PostgreSQL refuse the whole row, so
    /// the end of a try or the record of a delivered callback could not be written, and the callback was
    /// delivered again at every lease. Values written from outside input go through this first; inbound
    /// requests are refused instead (`parseStorable`).
    public func storable() -> JSONValue {
        switch self {
        case .string(let text): return .string(text.storable)
        case .array(let items): return .array(items.map { $0.storable() })
        case .object(let members): return .object(members.map { ($0.0.storable, $0.1.storable()) })
        case .null, .bool, .integer, .double: return self
        }
    }
}

extension String {
    /// The text with U+0000 replaced by U+FFFD; itself when it holds none (the usual case, checked bytewise).
    public var storable: String {
        guard utf8.contains(0) else { return self }
        return replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }
}
