import Foundation
import Testing

import RelayCore
@testable import RelayProviders

@Suite struct AddressPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1",
        "not-an-address",
    ])
    func refusesInsideAddresses(address: String) {
        #expect(AddressPolicy.isRefused(address))
    }

    @Test(arguments: ["93.184.216.34", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
    func allowsPublicAddresses(address: String) {
        #expect(!AddressPolicy.isRefused(address))
    }

    @Test func literalPrivateURLIsRefusedUnlessAllowed() async throws {
        let url = try #require(URL(string: "http://169.254.169.254/latest/meta-data"))
        await #expect(throws: (any Error).self) { try await AddressPolicy(allowPrivate: false).check(url, field: "picture.url") }
        try await AddressPolicy(allowPrivate: true).check(url, field: "picture.url")
    }

    /// Spellings of inside addresses that `inet_pton` does not read but the resolver does (as browsers and
    /// curl do): refused through what they resolve to.
    @Test(arguments: [
        "http://127.1/x", "http://0x7f000001/x", "http://2130706433/x", "http://0/x", "http://017700000001/x",
        "http://[::ffff:7f00:1]/x", "http://[fe80::1%25eth0]/x", "http://localhost./x",
    ])
    func shorthandInsideAddressesAreRefused(text: String) async throws {
        let url = try #require(URL(string: text))
        await #expect(throws: RelayError.self) { try await AddressPolicy(allowPrivate: false).check(url, field: "callback_url") }
    }

    @Test func namesResolvingInsideAreRefused() async throws {
        let url = try #require(URL(string: "http://localhost:8080/a.jpg"))
        do {
            try await AddressPolicy(allowPrivate: false).check(url, field: "picture.url")
            Issue.record("localhost was allowed")
        } catch {
            #expect(error.status == 400)
            #expect(error.info.contains("picture.url"))
        }
    }
}
