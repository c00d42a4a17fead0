// 16550A register offsets and bits (TI/National PC16550D datasheet, section 8 "Registers",
// Table II "Summary of Registers").
#pragma once

#include <cstdint>

namespace cella::devices::uart16550 {

// Offsets from the base port; DLAB is LCR bit 7 (datasheet 8.1 "Line Control Register").
inline constexpr uint64_t kRbrThrDll = 0;  // RBR (read), THR (write), DLL when DLAB=1
inline constexpr uint64_t kIerDlm = 1;     // IER, DLM when DLAB=1
inline constexpr uint64_t kIirFcr = 2;     // IIR (read), FCR (write)
inline constexpr uint64_t kLcr = 3;
inline constexpr uint64_t kMcr = 4;
inline constexpr uint64_t kLsr = 5;
inline constexpr uint64_t kMsr = 6;
inline constexpr uint64_t kScr = 7;
inline constexpr uint64_t kRegisterCount = 8;

// IER, datasheet 8.5 "Interrupt Enable Register": bits 7:4 are always 0.
inline constexpr uint8_t kIerReceivedData = 1 << 0;  // ERBFI
inline constexpr uint8_t kIerThrEmpty = 1 << 1;      // ETBEI
inline constexpr uint8_t kIerLineStatus = 1 << 2;    // ELSI
inline constexpr uint8_t kIerModemStatus = 1 << 3;   // EDSSI
inline constexpr uint8_t kIerMask = 0x0f;

// IIR, datasheet 8.4 "Interrupt Identification Register", Table IV: bit 0 = no interrupt
// pending, bits 3:1 the source, bits 7:6 set when the FIFOs are enabled.
inline constexpr uint8_t kIirNoInterrupt = 0x01;
inline constexpr uint8_t kIirLineStatus = 0x06;
inline constexpr uint8_t kIirReceivedData = 0x04;
inline constexpr uint8_t kIirCharTimeout = 0x0c;
inline constexpr uint8_t kIirThrEmpty = 0x02;
inline constexpr uint8_t kIirModemStatus = 0x00;
inline constexpr uint8_t kIirFifosEnabled = 0xc0;

// FCR, datasheet 8.3 "FIFO Control Register".
inline constexpr uint8_t kFcrEnable = 1 << 0;
inline constexpr uint8_t kFcrClearReceive = 1 << 1;
inline constexpr uint8_t kFcrClearTransmit = 1 << 2;
inline constexpr uint8_t kFcrDmaMode = 1 << 3;
inline constexpr unsigned kFcrTriggerShift = 6;
// Receiver FIFO trigger levels selected by FCR bits 7:6 (datasheet Table V... "RCVR FIFO
// Trigger Level").
inline constexpr uint8_t kTriggerLevels[4] = {1, 4, 8, 14};
inline constexpr unsigned kFifoSize = 16;

// LCR, datasheet 8.1.
inline constexpr uint8_t kLcrWordLengthMask = 0x03;  // 5 + value data bits
inline constexpr uint8_t kLcrStopBits = 1 << 2;
inline constexpr uint8_t kLcrParityEnable = 1 << 3;
inline constexpr uint8_t kLcrDlab = 1 << 7;

// MCR, datasheet 8.6 "Modem Control Register": bits 7:5 are always 0.
inline constexpr uint8_t kMcrDtr = 1 << 0;
inline constexpr uint8_t kMcrRts = 1 << 1;
inline constexpr uint8_t kMcrOut1 = 1 << 2;
inline constexpr uint8_t kMcrOut2 = 1 << 3;  // gates the IRQ driver on PC serial adapters
inline constexpr uint8_t kMcrLoop = 1 << 4;
inline constexpr uint8_t kMcrMask = 0x1f;

// LSR, datasheet 8.2 "Line Status Register".
inline constexpr uint8_t kLsrDataReady = 1 << 0;
inline constexpr uint8_t kLsrOverrun = 1 << 1;
inline constexpr uint8_t kLsrParityError = 1 << 2;
inline constexpr uint8_t kLsrFramingError = 1 << 3;
inline constexpr uint8_t kLsrBreak = 1 << 4;
inline constexpr uint8_t kLsrThrEmpty = 1 << 5;
inline constexpr uint8_t kLsrTransmitterEmpty = 1 << 6;
inline constexpr uint8_t kLsrFifoError = 1 << 7;
inline constexpr uint8_t kLsrErrors = kLsrOverrun | kLsrParityError | kLsrFramingError | kLsrBreak;

// MSR, datasheet 8.7 "Modem Status Register": deltas in bits 3:0, line states in 7:4.
inline constexpr uint8_t kMsrDeltaCts = 1 << 0;
inline constexpr uint8_t kMsrDeltaDsr = 1 << 1;
inline constexpr uint8_t kMsrTrailingRi = 1 << 2;
inline constexpr uint8_t kMsrDeltaDcd = 1 << 3;
inline constexpr uint8_t kMsrDeltas = 0x0f;
inline constexpr uint8_t kMsrCts = 1 << 4;
inline constexpr uint8_t kMsrDsr = 1 << 5;
inline constexpr uint8_t kMsrRi = 1 << 6;
inline constexpr uint8_t kMsrDcd = 1 << 7;

// The 1.8432 MHz crystal of PC serial ports, divided by 16: the baud rate at divisor 1.
inline constexpr uint64_t kBaudBase = 115200;

}  // namespace cella::devices::uart16550
