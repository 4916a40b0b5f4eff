import GStreamerKit

extension Element {
    /// What every libav video decoder of a mix with several inputs (and of every live input)
    /// is given:
    /// - one streaming thread (max-threads 1). With several inputs, decoding them side by side
    ///   keeps the cores busy; libav's frame threads on top cost CPU and ~20 MB each
    ///   (measured: 1.26 s vs 1.59 s CPU, 110 vs 131 MB for one 720p input), and each extra
    ///   thread holds a frame back, which a live input pays as latency;
    /// - no direct rendering: libav decodes into frames of its own and the decoder copies each
    ///   picture into a pooled buffer. Rendering into GStreamer's buffers saved no copy (libav
    ///   still holds a reference frame when the base class stamps it, so it is copied then,
    ///   each time into new pages) and kept more buffers alive: renders of 4 and 9 hosts
    ///   peaked 283 -> 260 and 409 -> 361 MB without it, with 0.45 and 0.9 s less system time
    ///   (renders; live inputs get the same settings, not measured apart).
    static let leanDecoderSettings: KeyValuePairs<String, PropertyValue> = ["max-threads": .int32(1), "direct-rendering": .bool(false)]

    /// Every libav decoder added anywhere inside this bin gets ``leanDecoderSettings`` (the
    /// audio ones have neither property and keep their defaults).
    func useLeanDecoders() {
        onDeepElementAdded { element in
            guard element.factoryName?.hasPrefix("avdec_") == true else { return }
            for (name, value) in Element.leanDecoderSettings { try? element.set(name, value) }
        }
    }
}
