import GStreamerKit

extension Element {
    /// Every libav decoder added anywhere inside this bin decodes on its own streaming thread
    /// (max-threads 1). With several inputs, decoding them side by side keeps the cores busy;
    /// libav's frame threads on top cost CPU and ~20 MB each (measured: 1.26 s vs 1.59 s CPU,
    /// 110 vs 131 MB for one 720p input), and each extra thread holds a frame back, which a
    /// live input pays as latency.
    func decodeWithoutFrameThreads() {
        onDeepElementAdded { element in
            if element.factoryName?.hasPrefix("avdec_") == true { try? element.set("max-threads", Int32(1)) }
        }
    }
}
