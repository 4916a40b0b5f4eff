import GStreamerKit

extension Element {
    /// What every video decoder of a mix with several inputs (and of every live input) is given:
    /// - one streaming thread (max-threads 1). With several inputs, decoding them side by side
    ///   keeps the cores busy; libav's frame threads on top cost CPU and ~20 MB each
    ///   (measured: 1.26 s vs 1.59 s CPU, 110 vs 131 MB for one 720p input), and each extra
    ///   thread holds a frame back, which a live input pays as latency;
    /// - for avdec's other codecs, no direct rendering: libav decodes into frames of its own and
    ///   avdec copies each picture into a pooled buffer. Rendering into GStreamer's buffers
    ///   saved no copy (libav still holds a reference frame when the base class stamps it, so
    ///   it is copied then, each time into new pages) and kept more buffers alive. H.264 and
    ///   H.265 go through arenavideodec (CArenaDecoder), which hands libav's planes on and
    ///   copies nothing.
    static let leanDecoderSettings: KeyValuePairs<String, PropertyValue> = ["max-threads": .int32(1), "direct-rendering": .bool(false)]

    /// arenavideodec's share of them: one thread (it has no direct rendering to turn off).
    static let oneThread: KeyValuePairs<String, PropertyValue> = ["max-threads": .int32(1)]

    /// Every video decoder added anywhere inside this bin gets its settings: arenavideodec
    /// ``oneThread``, avdec ``leanDecoderSettings`` (avdec's audio decoders have neither
    /// property and keep their defaults).
    func useLeanDecoders() {
        onDeepElementAdded { element in
            guard let factory = element.factoryName else { return }
            let settings = factory == "arenavideodec" ? Element.oneThread : factory.hasPrefix("avdec_") ? Element.leanDecoderSettings : [:]
            for (name, value) in settings { try? element.set(name, value) }
        }
    }
}
