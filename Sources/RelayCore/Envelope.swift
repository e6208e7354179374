import Foundation

/// The OneAll reply envelope every JSON API of PushRelay answers in, errors included.
///
/// `{"response":{"request":{"date","resource","status":{"flag","code","info"}},"result":{"data":{…}}}}`;
/// errors carry no `result` (oneall.md §3.2).
public struct Envelope: Sendable {
    /// `success`, `error` or `queued` (202: durable, not finished yet).
    public enum Flag: String, Sendable { case success, error, queued }

    public var date: Date
    public var resource: String
    public var flag: Flag
    public var code: Int
    public var info: String
    public var data: JSONValue?

    public static let successInfo = "Your request has been processed successfully"

    public init(date: Date = Date(), resource: String, flag: Flag, code: Int, info: String, data: JSONValue? = nil) {
        self.date = date
        self.resource = resource
        self.flag = flag
        self.code = code
        self.info = info
        self.data = data
    }

    public static func success(resource: String, data: JSONValue, code: Int = 200, info: String = successInfo) -> Envelope {
        Envelope(resource: resource, flag: .success, code: code, info: info, data: data)
    }

    public static func queued(resource: String, data: JSONValue, info: String) -> Envelope {
        Envelope(resource: resource, flag: .queued, code: 202, info: info, data: data)
    }

    public static func error(resource: String, _ error: RelayError) -> Envelope {
        Envelope(resource: resource, flag: .error, code: error.status, info: error.info)
    }

    public var json: JSONValue {
        let request: JSONValue = [
            "date": .string(OneAllDate.format(date)),
            "resource": .string(resource),
            "status": ["flag": .string(flag.rawValue), "code": .integer(Int64(code)), "info": .string(info)],
        ]
        var response: [(String, JSONValue)] = [("request", request)]
        if flag != .error, let data {
            response.append(("result", ["data": data]))
        }
        return ["response": .object(response)]
    }
}
