import ArenaFrame
import ArenaSpec
import GStreamerKit
import Synchronization

/// Puts each frame's ``StreamLayout`` into the H.264 output as an SEI user-data-unregistered
/// message (payload type 5: ``uuid``, then the JSON), before the access unit's first slice, so
/// that players can place their own widgets over the right cells. Which frames carry it:
/// ``MixSpec/LayoutSEI``.
package final class LayoutSEI: Sendable {
    /// The UUID the message is filed under: 6a1f2c4e-9b3d-4c7a-8e5f-0d2b7a9c1e34.
    static let uuid: [UInt8] = [0x6A, 0x1F, 0x2C, 0x4E, 0x9B, 0x3D, 0x4C, 0x7A, 0x8E, 0x5F, 0x0D, 0x2B, 0x7A, 0x9C, 0x1E, 0x34]

    private let mode: MixSpec.LayoutSEI
    private let state = Mutex(State())

    private struct State {
        /// Layouts of frames composited and not yet out of the encoder, by output time, and
        /// whether each differs from the frame before it (in presentation order: the encoder
        /// hands B-frames out after the frames they come before).
        var pending: [UInt64: (layout: StreamLayout, changed: Bool)] = [:]
        var lastRecorded: StreamLayout?
    }

    init(mode: MixSpec.LayoutSEI) {
        self.mode = mode
    }

    /// Keeps the layout of the frame planned as `plan` until the encoder hands that frame out
    /// (compositor thread).
    func record(_ plan: FramePlan) {
        let layout = StreamLayout(plan)
        state.withLock { state in
            state.pending[plan.time] = (layout, state.lastRecorded.map { layout.differsBeyondTime(from: $0) } ?? true)
            state.lastRecorded = layout
            // The encoder holds a few frames (lookahead, B-frames); anything older is gone.
            if state.pending.count > 300 { state.pending = state.pending.filter { $0.key + 5_000_000_000 > plan.time } }
        }
    }

    /// Inserts the messages into the byte-stream H.264 access units passing `pad`.
    func attach(to pad: Pad) {
        pad.addBufferInsertionProbe { [self] pts, isKeyframe, bytes in
            guard let pts, let layout = take(at: pts, isKeyframe: isKeyframe), let offset = Self.firstSliceOffset(in: bytes) else { return nil }
            return (offset, Self.nalUnit(payload: Self.uuid + layout.json()))
        }
    }

    /// The layout for the frame at `pts` if it is to carry one.
    private func take(at pts: UInt64, isKeyframe: Bool) -> StreamLayout? {
        state.withLock { state in
            guard let frame = state.pending.removeValue(forKey: pts), mode == .everyFrame || isKeyframe || frame.changed else { return nil }
            return frame.layout
        }
    }

    /// Where the first slice NAL unit's start code begins in an Annex B access unit.
    package static func firstSliceOffset(in bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                let type = bytes[index + 3] & 0x1F
                if type == 1 || type == 5 { return index > 0 && bytes[index - 1] == 0 ? index - 1 : index }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    /// An SEI NAL unit (with its 4-byte start code) holding one user-data-unregistered message
    /// with `payload`, emulation-prevention bytes inserted.
    package static func nalUnit(payload: [UInt8]) -> [UInt8] {
        var message: [UInt8] = [5]
        var size = payload.count
        while size >= 255 {
            message.append(0xFF)
            size -= 255
        }
        message.append(UInt8(size))
        message += payload
        message.append(0x80)   // rbsp trailing bits
        var nal: [UInt8] = [0, 0, 0, 1, 0x06]
        var zeros = 0
        for byte in message {
            if zeros >= 2 && byte <= 3 {
                nal.append(3)
                zeros = 0
            }
            nal.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return nal
    }
}
