import CArenaMemory
import Foundation

/// Process-wide memory settings for the commands that mix (render, run, snapshot, serve).
enum MediaMemory {
    static func configure() {
        // Mixes start and stop many GStreamer threads, and glibc gives threads malloc arenas
        // of their own (up to 8 a core) that keep what they freed: measured on 2 cores, 10
        // mixes created and deleted left the idle service 36 MB larger with 2 arenas and 7 MB
        // with 1; a 2-host render peaks 13 MB lower with 1 (`make soak` checks the service
        // stays flat). One arena for every 2 cores.
        arena_limit_malloc_arenas(Int32(max(1, ProcessInfo.processInfo.activeProcessorCount / 2)))
        // x264 asks for huge pages for its frames, and a 2 MB page is resident whole however
        // little of it is used: a 2-host render peaks 9 MB lower without them, at the same CPU.
        arena_disable_huge_pages()
    }
}
