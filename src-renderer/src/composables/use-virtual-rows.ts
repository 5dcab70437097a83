// Windowed rendering of a long list of equal-height rows: only the rows in view (plus a margin) exist in
// the DOM, so 10,000 runs scroll as lightly as 10. Follows the container's scroll and size while the
// calling scope lives; the observer is released when it is disposed.
import { computed, onScopeDispose, ref, watch, type Ref } from 'vue';

export interface VirtualRowsOptions {
  /** Height of every row in CSS pixels (the rows must be styled to exactly this height). */
  rowHeight: number;
  /** Rows rendered above and below the visible ones, so fast scrolling shows no blank gap. Default 8. */
  overscan?: number;
  /** Height assumed before the container is measured (tests, first paint). Default 600. */
  initialHeight?: number;
}

export interface VirtualRows {
  /** Index of the first rendered row, and one past the last. */
  start: Ref<number>;
  end: Ref<number>;
  /** Padding above the rendered rows and the full list's height: the scrollbar stays true. */
  offsetTop: Ref<number>;
  totalHeight: Ref<number>;
  onScroll: () => void;
}

export function useVirtualRows(container: Ref<HTMLElement | null>, count: Ref<number>, options: VirtualRowsOptions): VirtualRows {
  const overscan = options.overscan ?? 8;
  const scrollTop = ref(0);
  const viewHeight = ref(options.initialHeight ?? 600);

  const start = computed(() => Math.max(0, Math.floor(scrollTop.value / options.rowHeight) - overscan));
  const end = computed(() => Math.min(count.value, Math.ceil((scrollTop.value + viewHeight.value) / options.rowHeight) + overscan));
  const offsetTop = computed(() => start.value * options.rowHeight);
  const totalHeight = computed(() => count.value * options.rowHeight);

  function measure(): void {
    const element = container.value;
    if (!element) return;
    scrollTop.value = element.scrollTop;
    if (element.clientHeight > 0) viewHeight.value = element.clientHeight;
  }

  const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(measure) : null;
  watch(
    container,
    (element, previous) => {
      if (previous) observer?.unobserve(previous);
      if (element) {
        observer?.observe(element);
        measure();
      }
    },
    { immediate: true },
  );
  onScopeDispose(() => observer?.disconnect());

  return { start, end, offsetTop, totalHeight, onScroll: measure };
}
