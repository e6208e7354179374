import AsyncHTTPClient
import NIOCore
import RelayCore

/// Request and answer helpers every adapter uses, kept once instead of per provider.
extension HTTPClientRequest {
    /// A JSON `POST` with the user's bearer token: how most provider APIs take a publish call.
    static func jsonPost(_ url: String, body: JSONValue, bearer token: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.serialized()))
        return request
    }
}

extension PublishStop {
    /// A success answer without the id the adapter needs: the provider changed, or is not who we think.
    static func unexpected(_ provider: Provider, _ response: ProviderResponse, _ step: String) -> PublishStop {
        PublishStop(.failed(RelayError(status: 502, info: "\(provider.displayName) answered \(step) with HTTP \(response.status) but no id")))
    }
}

extension Error {
    /// The outcome of a try that ended on this error.
    var outcome: PublishOutcome {
        if let stop = self as? PublishStop { return stop.outcome }
        return .failed(.internalError("unexpected adapter error: \(self)"))
    }
}
