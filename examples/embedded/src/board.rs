//! What every firmware needs from the board, and nothing about networks: output and exit
//! status over semihosting, the RAM figures (static and the painted stack's deepest use), the
//! markers that delimit a measured region, and the panic handler.
//!
//! Output is assembled by hand rather than with `core::fmt`, whose integer and float
//! formatting would be most of an inference firmware's flash. Values go out as the hexadecimal
//! bits of each `f32`, which is also what the host compares.
#![allow(unsafe_code)]

use core::panic::PanicInfo;

use cortex_m_semihosting::{debug, hio};

/// One line of output, written piece by piece to the host's standard output. No buffer: a
/// line buffer costs a `memset`, a `memcpy` and about 900 bytes of flash with them.
pub struct Line {
    out: Option<hio::HostStream>,
}

impl Line {
    /// Starts a line with `tag`.
    pub fn new(tag: &str) -> Self {
        let mut line = Line {
            out: hio::hstdout().ok(),
        };
        line.text(tag);
        line
    }

    /// Appends `text`.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        if let Some(out) = &mut self.out {
            // Nothing useful can be done on the device if the host stops listening; the host
            // notices the missing output.
            let _ = out.write_all(bytes);
        }
        self
    }

    /// Appends a space and `value` in eight hexadecimal digits.
    pub fn hex(&mut self, value: u32) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [b' '; 9];
        for (i, digit) in text[1..].iter_mut().enumerate() {
            *digit = DIGITS[(value >> (28 - 4 * i)) as usize & 0xf];
        }
        self.bytes(&text)
    }

    /// Appends a space and `value` in decimal.
    pub fn decimal(&mut self, mut value: u32) -> &mut Self {
        let mut text = [b' '; 11];
        let mut start = text.len();
        loop {
            start -= 1;
            text[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        start -= 1;
        self.bytes(&text[start..])
    }

    /// Appends the bits of each value.
    pub fn floats(&mut self, values: impl IntoIterator<Item = f32>) -> &mut Self {
        for value in values {
            self.hex(value.to_bits());
        }
        self
    }

    /// Ends the line.
    pub fn send(&mut self) {
        self.bytes(b"\n");
    }
}

/// Reports the RAM figures (`static` and `stack` lines, in bytes), then ends the program with
/// the given status: QEMU exits with 0 for success and 1 for failure.
pub fn finish(success: bool) -> ! {
    Line::new("static").decimal(static_ram() as u32).send();
    Line::new("stack").decimal(stack_peak() as u32).send();
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // A debugger may resume the program after the exit request.
    loop {
        cortex_m::asm::nop();
    }
}

unsafe extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

/// `.data` and `.bss`, in bytes: the RAM the program's statics occupy.
pub fn static_ram() -> usize {
    let data = &raw const __edata as usize - &raw const __sdata as usize;
    let bss = &raw const __ebss as usize - &raw const __sbss as usize;
    data + bss
}

/// The deepest the stack has reached since reset, in bytes. cortex-m-rt's `paint-stack` fills
/// `_stack_end.._stack_start` with `STACK_PAINT_VALUE` before `main`; the lowest word that no
/// longer holds it marks the deepest use (a frame that stored exactly that value at its lowest
/// word would read one word short).
pub fn stack_peak() -> usize {
    let top = &raw const _stack_start as usize;
    let mut address = &raw const _stack_end as usize;
    while address < top {
        // SAFETY: `_stack_end.._stack_start` is RAM that cortex-m-rt reserves for the stack and
        // has painted; it is word-aligned (asserted by `link.x`), and reading a word of it
        // that is not in use (below the stack pointer) is a plain memory read.
        let word = unsafe { core::ptr::read_volatile(address as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        address += 4;
    }
    top - address
}

/// Marks the start of a measured region: the host's instruction counter starts when this
/// function's first instruction executes. `no_mangle` gives it a fixed name in the trace.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn measure_begin() {
    cortex_m::asm::nop();
}

/// Marks the end of a measured region: the counter stops here. Two `nop`s, so that the
/// linker cannot fold it into [`measure_begin`].
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn measure_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

/// Runs `work` on `input` between the two markers and returns its result. `black_box` on both
/// sides keeps the compiler from moving the work out of the region. Each firmware first
/// measures an empty region, so the host can subtract the markers' own instructions.
#[inline(always)]
pub fn measured<I, R>(input: I, work: impl FnOnce(I) -> R) -> R {
    measure_begin();
    let result = core::hint::black_box(work(core::hint::black_box(input)));
    measure_end();
    result
}

/// No interrupt is ever enabled, so the vector table ends after one device interrupt, the
/// least cortex-m-rt's linker script accepts; its default table has 240 (960 bytes of flash).
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
#[used]
static __INTERRUPTS: [extern "C" fn() -> !; 1] = [unused_interrupt];

extern "C" fn unused_interrupt() -> ! {
    loop {
        cortex_m::asm::nop();
    }
}

/// Says so on the host's standard output and exits with failure.
#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    Line::new("panic").send();
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::nop();
    }
}
