import NIOCore

extension Channel {
    /// Waits until the other side closes this connection and answers true; past `seconds` (a deadline for a
    /// failing test, not a synchronisation) closes it itself and answers false.
    public func closedByPeer(within seconds: Int = 20) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.closeFuture.get()
                return true
            }
            group.addTask {
                try await Task.sleep(until: deadline)
                return false
            }
            let first = try await group.next()!
            // Past the deadline the connection is closed here, which ends the wait on `closeFuture`.
            if !first { try? await self.close() }
            group.cancelAll()
            return first
        }
    }
}
