// Character devices: the two ends of a serial link. A device transmits bytes to a CharBackend
// (the terminal, a pipe, a socket, a test). Received bytes flow the other way with flow
// control: the backend offers bytes to the device's CharFrontend, the device takes only what
// its receive buffer holds, and calls back when a guest read made room, so bytes the guest has
// not read yet wait on the backend side (CharInputQueue) and are never dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>

namespace cella::devices {

class CharBackend {
 public:
  virtual ~CharBackend() = default;
  // The device sent one byte on its transmit line.
  virtual void transmit(uint8_t byte) = 0;
};

class CharFrontend {
 public:
  virtual ~CharFrontend() = default;
  // Takes the leading bytes that fit in the receive buffer; returns how many were taken.
  virtual size_t receive(std::span<const uint8_t> bytes) = 0;
  // A break condition on the line (the serial console's SysRq); false if there is no room.
  virtual bool receive_break() = 0;
  // `callback` runs whenever the receive buffer gains room after having refused bytes.
  void set_on_receive_room(std::function<void()> callback) {
    on_receive_room_ = std::move(callback);
  }

 protected:
  void notify_receive_room() {
    if (on_receive_room_) on_receive_room_();
  }

 private:
  std::function<void()> on_receive_room_;
};

// The backend side of a device's receive path: bytes pushed here reach the device as fast as
// the guest drains its receive buffer, in order.
class CharInputQueue {
 public:
  explicit CharInputQueue(CharFrontend& frontend);
  ~CharInputQueue();
  CharInputQueue(const CharInputQueue&) = delete;
  CharInputQueue& operator=(const CharInputQueue&) = delete;

  void push(std::span<const uint8_t> bytes);
  void push_break();  // after the bytes already queued
  size_t pending() const { return pending_.size(); }
  // Offers the waiting bytes to the device again (the device calls this through its callback).
  void pump();

 private:
  CharFrontend& frontend_;
  static constexpr uint16_t kBreak = 0x100;
  std::deque<uint16_t> pending_;  // bytes, and kBreak markers
};

}  // namespace cella::devices
