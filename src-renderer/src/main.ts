// Renderer entry: mounts the Vue app with Pinia (index.html links the theme's stylesheet). The renderer
// talks to the main process only through the typed API exposed by the preload (or the browser-mode bridge).
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';

createApp(App).use(createPinia()).mount('#app');
