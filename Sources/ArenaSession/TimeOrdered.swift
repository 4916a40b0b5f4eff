/// Binary search over time-ordered arrays (schedules, notices): what frames look up by time.
extension Array {
    /// In an array sorted by `time`, the index of the last element at or before `moment`
    /// (binary search); nil when every element is later.
    public func lastIndex(atOrBefore moment: UInt64, time: (Element) -> UInt64) -> Int? {
        var low = 0, high = count  // the first element after `moment`
        while low < high {
            let middle = (low + high) / 2
            if time(self[middle]) <= moment { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}
