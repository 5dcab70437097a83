// The placeholder shell renders and tells a new user where to start.
import { mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { expect, it } from 'vitest';
import App from './App.vue';

it('renders the product name and the first step', () => {
  const wrapper = mount(App, { global: { plugins: [createPinia()] } });
  expect(wrapper.find('h1').text()).toBe('cnlab');
  expect(wrapper.text()).toContain('cnlab hosts add');
});
