import CMalloc

/// Keeps the memory of large blocks (media chunks) from staying in the process after they are freed.
///
/// glibc serves a block above its mmap threshold with a mapping of its own, returned to the system when
/// the block is freed; but each time such a block is freed it raises the threshold to that block's size,
/// so that later blocks of that size come from the malloc arenas, where, freed, they stay resident and
/// fragment the heap. Media moves through the relay in chunks of several MiB (8 MiB for a YouTube upload):
/// relaying a 1 GiB video left 40–56 MiB free but resident in the arenas (`mallinfo2`: 12 MB in use,
/// 50 MB free), and the process's peak grew by that much. A fixed threshold of 1 MiB keeps every such
/// block mapped on its own: the same upload grows the process by about 9 MiB (BENCHMARKS.md).
enum MemoryTuning {
    static let mmapThreshold: Int32 = 1 << 20

    /// Applies the tuning; call once, before the relay allocates.
    static func apply() {
        _ = pushrelay_fix_mmap_threshold(mmapThreshold)
    }
}
