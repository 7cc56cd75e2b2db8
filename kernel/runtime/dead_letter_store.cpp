#include "runtime/dead_letter_store.hpp"

#include <algorithm>

#include "runtime/packet_bytes.hpp"

namespace sluice {

namespace {
std::size_t letter_bytes(const DeadLetter& letter) {
  return packet_bytes(letter.packet) + letter.node.capacity() + letter.error.capacity();
}
}  // namespace

void DeadLetterStore::add(std::string node, std::string error, Packet&& packet) {
  std::lock_guard lock(mutex_);
  letters_.push_back({next_id_++, std::move(node), std::move(error),
                      std::chrono::system_clock::now(), std::move(packet)});
  bytes_ += letter_bytes(letters_.back());
  // The newest letter stays even when it alone is over the byte bound.
  while (letters_.size() > capacity_ || (bytes_ > capacity_bytes_ && letters_.size() > 1)) {
    bytes_ -= letter_bytes(letters_.front());
    letters_.pop_front();
    ++dropped_;
  }
}

std::vector<DeadLetter> DeadLetterStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<DeadLetter> out;
  out.reserve(letters_.size());
  for (const auto& l : letters_) out.push_back({l.id, l.node, l.error, l.when, l.packet.clone()});
  return out;
}

std::vector<DeadLetter> DeadLetterStore::take(const std::vector<std::uint64_t>& ids) {
  std::lock_guard lock(mutex_);
  std::vector<DeadLetter> out;
  auto wanted = [&](const DeadLetter& l) {
    return ids.empty() || std::find(ids.begin(), ids.end(), l.id) != ids.end();
  };
  for (auto& l : letters_)
    if (wanted(l)) {
      bytes_ -= letter_bytes(l);
      out.push_back(std::move(l));
    }
  std::erase_if(letters_, wanted);
  return out;
}

std::size_t DeadLetterStore::size() const {
  std::lock_guard lock(mutex_);
  return letters_.size();
}

std::uint64_t DeadLetterStore::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace sluice
